// The in-context demo through the same domain functions the mutations call: a subject held out
// from the reference encoder's meta-training, its ENCODING_ICL run against ridge, the IN_CONTEXT
// leaderboard, and a second start that seeds and queues nothing again.
import { ICL_EVALUATION_SUBJECTS, ICL_TRAINING_SUBJECTS } from '../../src/compute/icl/reference-data';
import { DEMO_ICL_BENCHMARK, DEMO_ICL_KS, DEMO_ICL_METRIC, DEMO_ICL_SUBJECT, queueInContextDemo, seedInContextDemo } from '../../src/embedded/demo-in-context';
import { startTestApi, type TestApi } from '../helpers/api';
import { waitForRun } from '../helpers/upload';
import { demoRuns, recordingLog, untilQueued } from './demo-helpers';

let api: TestApi;
const { lines, log } = recordingLog();
let runId: string;

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  expect(await seedInContextDemo(api.services, log)).toBe(true);
  await untilQueued(() => queueInContextDemo(api.services, log));
  const runs = await demoRuns(api, 'ENCODING_ICL');
  expect(runs).toHaveLength(1);
  runId = runs[0].id;
  const done = await waitForRun(api, runId, 240_000);
  expect(done.error).toBeNull();
  expect(done.status).toBe('SUCCEEDED');
}, 300_000);
afterAll(() => api?.close());

it('fits a subject held out from the encoder’s meta-training, with the shipped reference encoder', async () => {
  expect(ICL_EVALUATION_SUBJECTS).toContain(DEMO_ICL_SUBJECT);
  expect(ICL_TRAINING_SUBJECTS).not.toContain(DEMO_ICL_SUBJECT);
  const { run } = await api.ok(`query($id: ID!) { run(id: $id) { kind params startedAt finishedAt } }`, { id: runId });
  const row = await api.db.run.findUniqueOrThrow({ where: { id: runId }, include: { model: true, subject: true } });
  expect(row.model).toMatchObject({ name: 'braincorl-reference', kind: 'IN_CONTEXT_ENCODER', family: 'braincorl' });
  expect(row.subject!.name).toBe(DEMO_ICL_SUBJECT);
  console.log(`demo ENCODING_ICL run took ${(Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000} s (shared machine)`);
  expect(run.params.ks).toEqual(DEMO_ICL_KS);
  expect(run.params.compareRidge).toBe(true);
});

it('shows the test-time-scaling claim: better than ridge on the same few images, better with more', async () => {
  const { run } = await api.ok(`query($id: ID!) { run(id: $id) { testTimeScaling(metric: "explained_variance") { curves { method scope points { k mean values } } } } }`, { id: runId });
  const curve = (method: string) => run.testTimeScaling.curves.find((c: any) => c.method === method && c.scope === 'all').points;
  const icl = curve('IN_CONTEXT');
  const ridge = curve('RIDGE');
  expect(icl.map((p: any) => p.k)).toEqual(DEMO_ICL_KS);
  // On every repeat (the same context images for both methods) at k <= 50.
  for (const [i, p] of icl.entries()) if (p.k <= 50) p.values.forEach((v: number, r: number) => expect(v).toBeGreaterThan(ridge[i].values[r]));
  for (let i = 1; i < icl.length; i++) expect(icl[i].mean).toBeGreaterThan(icl[i - 1].mean);
});

it('ranks the run on the IN_CONTEXT leaderboard by its explained variance at k = 100', async () => {
  const { benchmarks } = await api.ok('{ benchmarks { id name kind metric } }');
  const bench = benchmarks.find((b: any) => b.name === DEMO_ICL_BENCHMARK);
  expect(bench).toMatchObject({ kind: 'IN_CONTEXT', metric: DEMO_ICL_METRIC });
  const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b) { edges { node { rank value run { id } } } } }`, { b: bench.id });
  const { run } = await api.ok(`query($id: ID!, $m: String!) { run(id: $id) { scores(metric: $m) { scope value } } }`, { id: runId, m: DEMO_ICL_METRIC });
  expect(leaderboard.edges).toHaveLength(1);
  expect(leaderboard.edges[0].node).toMatchObject({ rank: 1, run: { id: runId } });
  expect(leaderboard.edges[0].node.value).toBe(run.scores.find((s: any) => s.scope === 'all').value);
});

it('seeds and queues nothing on a second start, and says so', async () => {
  lines.length = 0;
  expect(await seedInContextDemo(api.services, log)).toBe(false);
  expect(await queueInContextDemo(api.services, log)).toBe(true);
  expect(await demoRuns(api, 'ENCODING_ICL')).toHaveLength(1);
  expect(lines.map((l) => l.message)).toEqual(['demo in-context run: nothing to queue, already queued by an earlier start']);
});
