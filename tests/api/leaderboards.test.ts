// Leaderboards over scores of finished runs: ranking, filters, pagination, provenance.
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const BOARD = `query($b: ID!, $roi: String, $f: LeaderboardFilter, $first: Int, $after: String) {
  leaderboard(benchmarkId: $b, roi: $roi, filter: $f, first: $first, after: $after) {
    metric scope tieRule totalCount pageInfo { hasNextPage endCursor }
    edges { node { rank tied value ciLow ciHigh normalized site provenance model { name family } subject { name } run { id } } } } }`;

const provenance = { inputs: { features: 'a'.repeat(64), responses: 'b'.repeat(64) }, codeVersion: '0.1.0', engine: { provider: 'cpu' } };

async function setup() {
  const db = api.db;
  const lab = await db.lab.findUniqueOrThrow({ where: { id: api.services.defaultLabId } });
  const dataset = await db.dataset.create({ data: { labId: lab.id, name: uniqueName('lb'), visibility: 'PUBLIC' } });
  const subjects = await Promise.all(['subj01', 'subj02'].map((name) => db.subject.create({ data: { datasetId: dataset.id, name, nVoxels: 10 } })));
  const models = await Promise.all(
    [['clip-a', 'clip'], ['dino-a', 'dino'], ['clip-b', 'clip']].map(([name, family]) => db.model.create({ data: { labId: lab.id, name: uniqueName(name), family, kind: 'BACKBONE' } })),
  );
  const { createBenchmark: bench } = await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: ENCODING, metric: "pearson_r.mean" }) { id metric } }`, {
    n: uniqueName('nsd-encoding'),
  });
  const add = async (model: number, subject: number, value: number, ci: [number, number], extra: { status?: 'SUCCEEDED' | 'FAILED'; provenance?: object; roi?: string } = {}) => {
    const run = await db.run.create({
      data: {
        labId: lab.id,
        kind: 'ENCODING_RIDGE',
        status: extra.status ?? 'SUCCEEDED',
        params: {},
        benchmarkId: bench.id,
        modelId: models[model].id,
        subjectId: subjects[subject].id,
        provenance: extra.provenance ?? provenance,
      },
    });
    await db.score.create({
      data: { runId: run.id, benchmarkId: bench.id, metric: 'pearson_r.mean', scope: extra.roi ? `roi:${extra.roi}` : 'all', value, ciLow: ci[0], ciHigh: ci[1], normalized: value / 0.8 },
    });
    return run.id;
  };
  return { bench, add, subjects, models };
}

describe('leaderboards', () => {
  it('ranks finished runs with provenance, sharing ranks when CIs overlap', async () => {
    const { bench, add } = await setup();
    const best = await add(0, 0, 0.71, [0.69, 0.73]);
    const close = await add(1, 0, 0.7, [0.68, 0.72]);
    const third = await add(2, 1, 0.5, [0.48, 0.52]);
    await add(0, 1, 0.9, [0.88, 0.92], { status: 'FAILED' });
    await add(1, 1, 0.95, [0.9, 0.99], { provenance: {} });
    await add(1, 1, 0.4, [0.3, 0.5], { roi: 'FFA' });
    const { leaderboard } = await api.ok(BOARD, { b: bench.id });
    expect(leaderboard).toMatchObject({ metric: 'pearson_r.mean', scope: 'all', totalCount: 3 });
    expect(leaderboard.tieRule).toMatch(/confidence intervals overlap/);
    const rows = leaderboard.edges.map((e: any) => e.node);
    expect(rows.map((r: any) => [r.run.id, r.rank, r.tied])).toEqual([
      [best, 1, true],
      [close, 1, true],
      [third, 3, false],
    ]);
    expect(rows[0]).toMatchObject({ value: 0.71, ciLow: 0.69, ciHigh: 0.73, site: 'local', subject: { name: 'subj01' }, model: { family: 'clip' } });
    expect(rows[0].normalized).toBeCloseTo(0.71 / 0.8, 10);
    expect(rows[0].provenance.inputs.features).toBe('a'.repeat(64));

    const ffa = await api.ok(BOARD, { b: bench.id, roi: 'FFA' });
    expect(ffa.leaderboard.scope).toBe('roi:FFA');
    expect(ffa.leaderboard.edges.map((e: any) => e.node.value)).toEqual([0.4]);
  });

  it('ranks by the noise-ceiling-normalised value on request, showing the raw score and CI', async () => {
    const { bench, add } = await setup();
    const a = await add(0, 0, 0.6, [0.55, 0.65]);
    const b = await add(1, 1, 0.5, [0.45, 0.55]);
    // add() stores normalized = value / 0.8; give b a lower ceiling so it wins once normalised.
    await api.db.score.updateMany({ where: { runId: b }, data: { normalized: 0.9 } });
    const { leaderboard } = await api.ok(
      `query($b: ID!) { leaderboard(benchmarkId: $b, rankBy: NORMALIZED) { rankBy edges { node { rank rankedValue value ciLow normalized run { id } } } } }`,
      { b: bench.id },
    );
    expect(leaderboard.rankBy).toBe('NORMALIZED');
    expect(leaderboard.edges.map((e: any) => [e.node.run.id, e.node.rank, e.node.rankedValue])).toEqual([
      [b, 1, 0.9],
      [a, 2, 0.6 / 0.8],
    ]);
    expect(leaderboard.edges[0].node).toMatchObject({ value: 0.5, ciLow: 0.45 });
  });

  it('filters by subject and model family and pages with cursors', async () => {
    const { bench, add, subjects } = await setup();
    for (let i = 0; i < 5; i++) await add(i % 3, i % 2, 0.1 * (i + 1), [0.1 * (i + 1) - 0.01, 0.1 * (i + 1) + 0.01]);
    const bySubject = await api.ok(BOARD, { b: bench.id, f: { subjectId: subjects[1].id } });
    expect(bySubject.leaderboard.edges.every((e: any) => e.node.subject.name === 'subj02')).toBe(true);
    expect(bySubject.leaderboard.totalCount).toBe(2);
    const clip = await api.ok(BOARD, { b: bench.id, f: { modelFamily: 'clip' } });
    expect(clip.leaderboard.edges.every((e: any) => e.node.model.family === 'clip')).toBe(true);
    expect(clip.leaderboard.totalCount).toBe(3); // runs 0, 2, 3 use clip-family models

    const values: number[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await api.ok(BOARD, { b: bench.id, first: 2, after });
      values.push(...page.leaderboard.edges.map((e: any) => e.node.value));
      if (!page.leaderboard.pageInfo.hasNextPage) break;
      after = page.leaderboard.pageInfo.endCursor;
    }
    expect(values.map((v) => +v.toFixed(2))).toEqual([0.5, 0.4, 0.3, 0.2, 0.1]);
  });

  it('refuses unknown benchmarks and duplicate names', async () => {
    const missing = await api.gql(BOARD, { b: '00000000-0000-4000-8000-000000000000' });
    expect(missing.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const name = uniqueName('dup');
    await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: VQA, metric: "accuracy" }) { id } }`, { n: name });
    const dup = await api.gql(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: VQA, metric: "accuracy" }) { id } }`, { n: name });
    expect(dup.errors?.[0].extensions.code).toBe('CONFLICT');
  });
});
