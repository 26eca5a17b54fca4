// A run is readable only by viewers who may read every input it names. Lab A owns runs whose
// inputs mix visibilities; each viewer asks for each run through every path that shows a run,
// and must see exactly the labs the inputs all allow. Then inputs change visibility, and the runs
// follow; and a run submitted through the API derives its visibility the same way.
import { randomBytes } from 'node:crypto';
import { storeArtifact } from '../../src/domain/artifacts';
import { refreshRunAccess } from '../../src/domain/run-access';
import { buildBundleContent } from '../../src/sites/export';
import { startTestApi, type TestApi } from '../helpers/api';
import { addMember, createLab } from '../helpers/access';
import { uniqueName } from '../helpers/db';

jest.setTimeout(90_000);

const VIEWERS = ['operator', 'A admin', 'A viewer', 'B viewer', 'C submitter', 'anonymous'] as const;
type ViewerName = (typeof VIEWERS)[number];
const EVERYONE = [...VIEWERS];
const LAB_A: ViewerName[] = ['operator', 'A admin', 'A viewer'];

interface Case {
  name: string;
  dataset: { visibility: 'PRIVATE' | 'SHARED' | 'PUBLIC'; sharedWith?: 'B' | 'C' };
  model: { visibility: 'PRIVATE' | 'SHARED' | 'PUBLIC'; sharedWith?: 'B' | 'C' };
  /** A second run the run reads (encoder of a causal test), with its own setting. */
  encoder?: 'PRIVATE' | 'PUBLIC';
  /** Whether the case's run is the child of a sweep (the parent reads the same inputs). */
  sweepChild?: boolean;
  allowed: ViewerName[];
}

const CASES: Case[] = [
  { name: 'public dataset, public model', dataset: { visibility: 'PUBLIC' }, model: { visibility: 'PUBLIC' }, allowed: EVERYONE },
  { name: 'public dataset + private model', dataset: { visibility: 'PUBLIC' }, model: { visibility: 'PRIVATE' }, allowed: LAB_A },
  { name: 'dataset shared with B, public model', dataset: { visibility: 'SHARED', sharedWith: 'B' }, model: { visibility: 'PUBLIC' }, allowed: [...LAB_A, 'B viewer'] },
  {
    name: 'dataset shared with B, model shared with C (lists intersect)',
    dataset: { visibility: 'SHARED', sharedWith: 'B' },
    model: { visibility: 'SHARED', sharedWith: 'C' },
    allowed: LAB_A,
  },
  { name: 'public inputs + private encoder run', dataset: { visibility: 'PUBLIC' }, model: { visibility: 'PUBLIC' }, encoder: 'PRIVATE', allowed: LAB_A },
  { name: 'public inputs + public encoder run', dataset: { visibility: 'PUBLIC' }, model: { visibility: 'PUBLIC' }, encoder: 'PUBLIC', allowed: EVERYONE },
  { name: 'sweep child, public dataset + private model', dataset: { visibility: 'PUBLIC' }, model: { visibility: 'PRIVATE' }, sweepChild: true, allowed: LAB_A },
  { name: 'sweep child, dataset shared with B', dataset: { visibility: 'SHARED', sharedWith: 'B' }, model: { visibility: 'PUBLIC' }, sweepChild: true, allowed: [...LAB_A, 'B viewer'] },
];

interface Seeded {
  run: string;
  parent: string | null;
  dataset: string;
  model: string;
  output: string;
}

let api: TestApi;
const labs: Record<'A' | 'B' | 'C', string> = { A: '', B: '', C: '' };
let benchmarkId: string;
const tokens: Record<string, string> = {};
const seeded = new Map<string, Seeded>();

const client = (viewer: ViewerName) =>
  api.as(viewer === 'operator' || viewer === 'anonymous' ? viewer : { token: tokens[viewer] });

async function seedCase(c: Case, i: number): Promise<Seeded> {
  const db = api.db;
  const share = (s?: 'B' | 'C') => (s ? [labs[s]] : []);
  const dataset = await db.dataset.create({ data: { labId: labs.A, name: uniqueName('mix-ds'), visibility: c.dataset.visibility, sharedWith: share(c.dataset.sharedWith) } });
  const subject = await db.subject.create({ data: { datasetId: dataset.id, name: 'subj01', nVoxels: 4 } });
  const model = await db.model.create({ data: { labId: labs.A, name: uniqueName('mix-m'), kind: 'BACKBONE', visibility: c.model.visibility, sharedWith: share(c.model.sharedWith) } });
  // Stored as jobs store their outputs: owned by no lab, read through the run.
  const output = await storeArtifact(api.services, randomBytes(32), { filename: 'weights.npy', labId: null });
  const provenance = { codeVersion: 'test', inputs: { responses: 'b'.repeat(64) } };
  const inputs = { inputDatasetIds: [dataset.id], inputModelIds: [model.id] };
  const runIds: string[] = [];
  if (c.encoder) {
    const encoder = await db.run.create({
      data: { labId: labs.A, kind: 'ENCODING_RIDGE', status: 'SUCCEEDED', params: {}, ownVisibility: c.encoder, ...inputs, modelId: model.id, subjectId: subject.id },
    });
    runIds.push(encoder.id);
  }
  let parent: string | null = null;
  if (c.sweepChild) {
    const p = await db.run.create({ data: { labId: labs.A, kind: 'LAYER_SWEEP', status: 'SUCCEEDED', params: {}, ...inputs, modelId: model.id, subjectId: subject.id } });
    parent = p.id;
    runIds.push(p.id);
  }
  const run = await db.run.create({
    data: {
      labId: labs.A, kind: c.encoder ? 'CAUSAL_TEST' : 'ENCODING_RIDGE', status: 'SUCCEEDED', params: {}, provenance, outputs: { weights: output.id },
      benchmarkId, modelId: model.id, subjectId: subject.id, parentRunId: parent, ...inputs, inputRunIds: runIds,
      // Stored wide open: the derivation, not the seed, must decide.
      visibility: 'PUBLIC',
      scores: { create: [{ metric: 'pearson_r.mean', scope: 'all', value: 0.01 * (i + 1), benchmarkId }] },
    },
  });
  await refreshRunAccess(db, [...runIds, run.id]);
  return { run: run.id, parent, dataset: dataset.id, model: model.id, output: output.id };
}

beforeAll(async () => {
  api = await startTestApi();
  labs.A = await createLab(api, 'A');
  labs.B = await createLab(api, 'B');
  labs.C = await createLab(api, 'C');
  tokens['A admin'] = (await addMember(api, labs.A, 'ADMIN')).token;
  tokens['A viewer'] = (await addMember(api, labs.A, 'VIEWER')).token;
  tokens['B viewer'] = (await addMember(api, labs.B, 'VIEWER')).token;
  tokens['C submitter'] = (await addMember(api, labs.C, 'SUBMITTER')).token;
  benchmarkId = (await api.db.benchmark.create({ data: { name: uniqueName('mix-bench'), kind: 'ENCODING', metric: 'pearson_r.mean' } })).id;
  for (const [i, c] of CASES.entries()) seeded.set(c.name, await seedCase(c, i));
});
afterAll(() => api?.close());

type Sees = (viewer: ViewerName, s: Seeded) => Promise<boolean>;

const PATHS: [string, Sees][] = [
  ['run(id)', async (v, s) => (await client(v).ok(`query($id: ID!) { run(id: $id) { id } }`, { id: s.run })).run !== null],
  [
    'runs connection filtered by status (no lab named)',
    async (v, s) => {
      const { runs } = await client(v).ok(`{ runs(first: 100, filter: { status: SUCCEEDED }) { totalCount edges { node { id } } } }`);
      expect(runs.totalCount).toBe(runs.edges.length);
      return runs.edges.some((e: any) => e.node.id === s.run);
    },
  ],
  [
    'runs connection (edges and totalCount)',
    async (v, s) => {
      const { runs } = await client(v).ok(`query($lab: ID!) { runs(first: 100, filter: { labId: $lab }) { totalCount edges { node { id } } } }`, { lab: labs.A });
      expect(runs.totalCount).toBe(runs.edges.length);
      return runs.edges.some((e: any) => e.node.id === s.run);
    },
  ],
  [
    'leaderboard rows and totalCount',
    async (v, s) => {
      const { leaderboard } = await client(v).ok(`query($b: ID!) { leaderboard(benchmarkId: $b, first: 100) { totalCount edges { node { run { id } } } } }`, { b: benchmarkId });
      expect(leaderboard.totalCount).toBe(leaderboard.edges.length);
      return leaderboard.edges.some((e: any) => e.node.run?.id === s.run);
    },
  ],
  ['artifact(id): run output', async (v, s) => (await client(v).ok(`query($id: ID!) { artifact(id: $id) { downloadUrl } }`, { id: s.output })).artifact !== null],
  [
    'run -> outputs -> artifact.downloadUrl',
    async (v, s) => typeof (await client(v).ok(`query($id: ID!) { run(id: $id) { outputs { artifact { downloadUrl } } } }`, { id: s.run })).run?.outputs[0]?.artifact.downloadUrl === 'string',
  ],
  [
    'sweep parent -> children',
    async (v, s) => {
      if (!s.parent) return (await client(v).ok(`query($id: ID!) { run(id: $id) { id } }`, { id: s.run })).run !== null;
      const { run } = await client(v).ok(`query($id: ID!) { run(id: $id) { children { id } } }`, { id: s.parent });
      return (run?.children ?? []).some((c: any) => c.id === s.run);
    },
  ],
  [
    'site bundle (anonymous visitors only)',
    async (v, s) => {
      if (v !== 'anonymous') return (await client(v).ok(`query($id: ID!) { run(id: $id) { id } }`, { id: s.run })).run !== null;
      const bundle = await buildBundleContent(api.services, { name: 'here', publicKey: 'x', url: '' } as any, { benchmarkIds: [benchmarkId] });
      return bundle.runs.some((r) => r.id === s.run);
    },
  ],
];

describe.each(PATHS)('%s', (_name, sees) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const seen: ViewerName[] = [];
    for (const v of VIEWERS) if (await sees(v, seeded.get(c.name)!)) seen.push(v);
    expect(seen).toEqual(c.allowed);
  });
});

describe('when an input changes visibility, its runs follow', () => {
  const setVisibility = `mutation($i: SetVisibilityInput!) { setVisibility(input: $i) { visibility } }`;
  const seesRun = async (v: ViewerName, id: string) => (await client(v).ok(`query($id: ID!) { run(id: $id) { id } }`, { id })).run !== null;

  it('making the private model public opens its runs; making it private again closes them', async () => {
    const s = seeded.get('public dataset + private model')!;
    await api.ok(setVisibility, { i: { kind: 'MODEL', id: s.model, visibility: 'PUBLIC' } });
    expect(await seesRun('anonymous', s.run)).toBe(true);
    await api.ok(setVisibility, { i: { kind: 'MODEL', id: s.model, visibility: 'PRIVATE' } });
    expect(await seesRun('anonymous', s.run)).toBe(false);
    expect(await seesRun('A viewer', s.run)).toBe(true);
  });

  it('a sweep child follows its dataset and its parent', async () => {
    const s = seeded.get('sweep child, dataset shared with B')!;
    await api.ok(setVisibility, { i: { kind: 'DATASET', id: s.dataset, visibility: 'PRIVATE' } });
    expect(await seesRun('B viewer', s.run)).toBe(false);
    await api.ok(setVisibility, { i: { kind: 'DATASET', id: s.dataset, visibility: 'SHARED', sharedWith: [labs.B] } });
    expect(await seesRun('B viewer', s.run)).toBe(true);
    // Narrowing the parent narrows the child.
    await api.ok(setVisibility, { i: { kind: 'RUN', id: s.parent, visibility: 'PRIVATE' } });
    expect(await seesRun('B viewer', s.run)).toBe(false);
    expect(await seesRun('A viewer', s.run)).toBe(true);
  });

  it('a run set PUBLIC stays within what its inputs allow, and says so', async () => {
    const s = seeded.get('dataset shared with B, public model')!;
    const { setVisibility: res } = await api.ok(setVisibility, { i: { kind: 'RUN', id: s.run, visibility: 'PUBLIC' } });
    expect(res.visibility).toBe('SHARED');
    expect(await seesRun('anonymous', s.run)).toBe(false);
    expect(await seesRun('B viewer', s.run)).toBe(true);
  });

  it('a private encoder made public opens the causal test that read it', async () => {
    const s = seeded.get('public inputs + private encoder run')!;
    const run = await api.db.run.findUniqueOrThrow({ where: { id: s.run } });
    await api.ok(setVisibility, { i: { kind: 'RUN', id: run.inputRunIds[0], visibility: 'PUBLIC' } });
    expect(await seesRun('anonymous', s.run)).toBe(true);
  });

  it('when the owning lab loses an input, even it no longer reads the run', async () => {
    const db = api.db;
    const dataset = await db.dataset.create({ data: { labId: labs.A, name: uniqueName('own-ds'), visibility: 'PRIVATE' } });
    const model = await db.model.create({ data: { labId: labs.B, name: uniqueName('b-model'), kind: 'BACKBONE', visibility: 'SHARED', sharedWith: [labs.A] } });
    const output = await storeArtifact(api.services, randomBytes(32), { filename: 'weights.npy', labId: null });
    const run = await db.run.create({
      data: { labId: labs.A, kind: 'ENCODING_RIDGE', params: {}, outputs: { weights: output.id }, inputDatasetIds: [dataset.id], inputModelIds: [model.id] },
    });
    await refreshRunAccess(db, [run.id]);
    const seesOutput = async (v: ViewerName) => (await client(v).ok(`query($id: ID!) { artifact(id: $id) { id } }`, { id: output.id })).artifact !== null;
    expect(await seesRun('A viewer', run.id)).toBe(true);
    expect(await seesOutput('A viewer')).toBe(true);
    await api.ok(setVisibility, { i: { kind: 'MODEL', id: model.id, visibility: 'PRIVATE' } });
    expect(await seesRun('A viewer', run.id)).toBe(false);
    // Its outputs go with it, although lab A submitted the run.
    expect(await seesOutput('A viewer')).toBe(false);
    expect(await seesRun('B viewer', run.id)).toBe(false);
    expect(await seesRun('operator', run.id)).toBe(true);
  });
});

describe('submission derives the run from all of its inputs', () => {
  it('a ridge run on a public dataset with lab A private features is private to lab A, and a shared dataset carries its list', async () => {
    const db = api.db;
    for (const [dv, mv, expected] of [
      ['PUBLIC', 'PRIVATE', { visibility: 'PRIVATE', sharedWith: [] as string[] }],
      ['SHARED', 'PUBLIC', { visibility: 'SHARED', sharedWith: [labs.B] }],
    ] as const) {
      const dataset = await db.dataset.create({ data: { labId: labs.A, name: uniqueName('sub-ds'), visibility: dv, sharedWith: dv === 'SHARED' ? [labs.B] : [] } });
      const stimuli = Array.from({ length: 20 }, (_, i) => ({ position: i, externalId: `img-${i}` }));
      const set = await db.stimulusSet.create({ data: { datasetId: dataset.id, name: 'images', stimuli: { create: stimuli } } });
      const subject = await db.subject.create({ data: { datasetId: dataset.id, name: 'subj01', nVoxels: 4 } });
      const model = await db.model.create({ data: { labId: labs.A, name: uniqueName('sub-m'), kind: 'BACKBONE', visibility: mv } });
      const fs = await db.featureSet.create({ data: { modelId: model.id, stimulusSetId: set.id, status: 'READY', dim: 3 } });
      const rs = await db.responseSet.create({ data: { subjectId: subject.id, stimulusSetId: set.id, status: 'READY' } });
      const { submitEncodingRidge } = await client('A admin').ok(
        `mutation($i: EncodingRidgeInput!) { submitEncodingRidge(input: $i) { id } }`,
        { i: { featureSetId: fs.id, responseSetId: rs.id, testStimulusIds: ['img-0', 'img-1', 'img-2', 'img-3'], bootstrapSamples: 0 } },
      );
      const row = await db.run.findUniqueOrThrow({ where: { id: submitEncodingRidge.id } });
      expect({ visibility: row.visibility, sharedWith: row.sharedWith }).toEqual(expected);
      expect(row.inputModelIds).toEqual([model.id]);
      expect(row.inputDatasetIds).toEqual([dataset.id]);
      expect(await seesRun2('anonymous', row.id)).toBe(false);
      expect(await seesRun2('B viewer', row.id)).toBe(dv === 'SHARED');

      // A layer sweep on the same inputs: the parent and every child come out alike, the children reading the parent.
      const { submitLayerSweep } = await client('A admin').ok(`mutation($i: LayerSweepInput!) { submitLayerSweep(input: $i) { id } }`, {
        i: { modelId: model.id, responseSetId: rs.id, testStimulusIds: ['img-0', 'img-1', 'img-2', 'img-3'], bootstrapSamples: 0 },
      });
      const family = await db.run.findMany({ where: { OR: [{ id: submitLayerSweep.id }, { parentRunId: submitLayerSweep.id }] } });
      expect(family.length).toBe(2);
      for (const r of family) expect({ visibility: r.visibility, sharedWith: r.sharedWith }).toEqual(expected);
      expect(family.find((r) => r.parentRunId)!.inputRunIds).toEqual([submitLayerSweep.id]);
    }
  });
});

async function seesRun2(v: ViewerName, id: string) {
  return (await client(v).ok(`query($id: ID!) { run(id: $id) { id } }`, { id })).run !== null;
}
