// Runs named by what they compare (Run { title model layer subject dataset benchmark }), listed
// newest first and filtered by model, subject, dataset and status.
import { startTestApi, type TestApi } from '../helpers/api';
import { testDb, uniqueName } from '../helpers/db';
import type { Db } from '../../src/db/client';

describe('run titles and run filters', () => {
  let api: TestApi;
  const ids: Record<string, string> = {};
  const names: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi();
    const db = api.db;
    const lab = await db.lab.create({ data: { name: uniqueName('title-lab') } });
    names.dataset = uniqueName('Title study');
    const dataset = await db.dataset.create({ data: { labId: lab.id, name: names.dataset } });
    const other = await db.dataset.create({ data: { labId: lab.id, name: uniqueName('Other study') } });
    const subject = await db.subject.create({ data: { datasetId: dataset.id, name: 'subj01', nVoxels: 10 } });
    const subject2 = await db.subject.create({ data: { datasetId: other.id, name: 'subj02', nVoxels: 10 } });
    const images = await db.stimulusSet.create({ data: { datasetId: dataset.id, name: 'images' } });
    names.clip = uniqueName('clip');
    names.dino = uniqueName('dino');
    const clip = await db.model.create({ data: { labId: lab.id, name: names.clip, kind: 'BACKBONE' } });
    const dino = await db.model.create({ data: { labId: lab.id, name: names.dino, kind: 'BACKBONE' } });
    const fsClip = await db.featureSet.create({ data: { modelId: clip.id, stimulusSetId: images.id, layer: 'layer4' } });
    const fsDino = await db.featureSet.create({ data: { modelId: dino.id, stimulusSetId: images.id, layer: '' } });
    const rs = await db.responseSet.create({ data: { subjectId: subject.id, stimulusSetId: images.id } });
    names.bench = uniqueName('title-bench');
    const bench = await db.benchmark.create({ data: { name: names.bench, kind: 'ENCODING', metric: 'pearson_r.mean', datasetId: dataset.id } });
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const common = { labId: lab.id, visibility: 'PUBLIC' as const };
    ids.ridgeClip = (await db.run.create({ data: { ...common, kind: 'ENCODING_RIDGE', status: 'SUCCEEDED', modelId: clip.id, subjectId: subject.id, benchmarkId: bench.id, params: { featureSetId: fsClip.id, responseSetId: rs.id }, createdAt: at(1) } })).id;
    // Model and subject only in the parameters (kinds that do not set the columns).
    ids.ridgeDino = (await db.run.create({ data: { ...common, kind: 'ENCODING_RIDGE', status: 'FAILED', params: { featureSetId: fsDino.id, responseSetId: rs.id }, createdAt: at(2) } })).id;
    ids.importResponses = (await db.run.create({ data: { ...common, kind: 'IMPORT_RESPONSES', status: 'SUCCEEDED', params: { responseSetId: rs.id }, createdAt: at(3) } })).id;
    ids.other = (await db.run.create({ data: { ...common, kind: 'ENCODING_RIDGE', status: 'SUCCEEDED', modelId: clip.id, subjectId: subject2.id, params: {}, createdAt: at(4) } })).id;
    ids.lab = lab.id;
    Object.assign(ids, { clip: clip.id, dino: dino.id, subject: subject.id, dataset: dataset.id, other: ids.other });
  });
  afterAll(async () => {
    await api?.close();
  });

  const RUN = `query($id: ID!) { run(id: $id) { title layer model { name } subject { name } dataset { name } benchmark { name } } }`;

  it('names each run by kind, model and layer, subject, dataset and benchmark', async () => {
    const { run: ridge } = await api.ok(RUN, { id: ids.ridgeClip });
    expect(ridge).toEqual({
      title: `Ridge encoding · ${names.clip} layer4 → subj01 (${names.dataset}) · ${names.bench}`,
      layer: 'layer4',
      model: { name: names.clip },
      subject: { name: 'subj01' },
      dataset: { name: names.dataset },
      benchmark: { name: names.bench },
    });
    const { run: dino } = await api.ok(RUN, { id: ids.ridgeDino });
    expect(dino).toMatchObject({ title: `Ridge encoding · ${names.dino} → subj01 (${names.dataset})`, layer: null, model: { name: names.dino }, benchmark: null });
    const { run: imp } = await api.ok(RUN, { id: ids.importResponses });
    expect(imp).toMatchObject({ title: `Response import · subj01 (${names.dataset})`, model: null, subject: { name: 'subj01' } });
  });

  it('leaves out what an anonymous visitor may not read', async () => {
    const { run } = await api.as('anonymous').ok(RUN, { id: ids.ridgeClip });
    expect(run).toMatchObject({ title: `Ridge encoding · ${names.bench}`, model: null, subject: null, dataset: null });
  });

  it('lists newest first and filters by model, subject, dataset and status', async () => {
    const LIST = `query($f: RunFilter, $newest: Boolean) { runs(first: 50, filter: $f, newestFirst: $newest) { totalCount edges { node { id title } } } }`;
    const list = async (f: Record<string, unknown>, newest = true) => (await api.ok(LIST, { f, newest })).runs.edges.map((e: any) => e.node.id);
    expect(await list({ modelId: ids.clip })).toEqual([ids.other, ids.ridgeClip]);
    expect(await list({ modelId: ids.clip }, false)).toEqual([ids.ridgeClip, ids.other]);
    expect(await list({ subjectId: ids.subject })).toEqual([ids.ridgeClip]);
    expect(await list({ datasetId: ids.dataset })).toEqual([ids.ridgeClip]);
    expect(await list({ datasetId: ids.dataset, status: 'SUCCEEDED' })).toEqual([ids.ridgeClip]);
    expect(await list({ modelId: ids.dino })).toEqual([]);
    // Pages continue towards older runs.
    const page1 = await api.ok(`query($f: RunFilter) { runs(first: 1, filter: $f, newestFirst: true) { edges { node { id } } pageInfo { endCursor } } }`, { f: { modelId: ids.clip } });
    const page2 = await api.ok(`query($f: RunFilter, $a: String) { runs(first: 1, after: $a, filter: $f, newestFirst: true) { edges { node { id } } } }`, { f: { modelId: ids.clip }, a: page1.runs.pageInfo.endCursor });
    expect([page1.runs.edges[0].node.id, page2.runs.edges[0].node.id]).toEqual([ids.other, ids.ridgeClip]);
    const bad = await api.gql(LIST, { f: { modelId: 'nope' } });
    expect(bad.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('resolves the titles of twice as many runs with the same number of queries (DataLoaders, no N+1)', async () => {
    let count = 0;
    const counting = testDb().$extends({
      query: {
        $allOperations({ args, query }: { args: unknown; query: (a: unknown) => Promise<unknown> }) {
          count++;
          return query(args);
        },
      },
    }) as unknown as Db;
    const counted = await startTestApi({ db: counting });
    // Four more runs, older, with the same shapes as the four above (the page of 8 has each shape twice).
    const shapes = await api.db.run.findMany({ where: { labId: ids.lab } });
    for (const r of shapes)
      await api.db.run.create({
        data: { labId: r.labId, kind: r.kind, status: r.status, visibility: r.visibility, modelId: r.modelId, subjectId: r.subjectId, benchmarkId: r.benchmarkId, params: r.params as object, createdAt: new Date(r.createdAt.getTime() - 3600_000) },
      });
    try {
      const Q = `query($f: RunFilter, $n: Int) { runs(first: $n, filter: $f, newestFirst: true) { edges { node { title layer model { name } subject { name } dataset { name } benchmark { name } } } } }`;
      const queriesFor = async (n: number) => {
        count = 0;
        const { runs } = await counted.ok(Q, { f: { labId: ids.lab }, n });
        expect(runs.edges).toHaveLength(n);
        return count;
      };
      await queriesFor(4); // warm-up (token lookup cache and the like)
      const four = await queriesFor(4);
      const eight = await queriesFor(8);
      // Each level of the title (runs, feature/response sets, models, subjects, datasets,
      // benchmarks) is one batched query whatever the page size.
      expect(eight).toBe(four);
      expect(four).toBeLessThan(15);
    } finally {
      await counted.close();
    }
  });
});
