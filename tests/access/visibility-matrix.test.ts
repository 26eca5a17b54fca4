// Who sees what: lab A owns a private, a shared-with-B and a public object of every kind; each
// viewer asks for each through every query path, and must see exactly what the rule allows.
// New object kinds or paths are one row in PATHS.
import { storeArtifact } from '../../src/domain/artifacts';
import { startTestApi, type TestApi } from '../helpers/api';
import { addMember, createLab } from '../helpers/access';
import { uniqueName } from '../helpers/db';

jest.setTimeout(60_000);

const VIS = ['PRIVATE', 'SHARED', 'PUBLIC'] as const;
type Vis = (typeof VIS)[number];

/** What each viewer may read of lab A's objects (the rule under test, written out). */
const ALLOWED: Record<string, Vis[]> = {
  operator: ['PRIVATE', 'SHARED', 'PUBLIC'],
  'A admin': ['PRIVATE', 'SHARED', 'PUBLIC'],
  'A viewer': ['PRIVATE', 'SHARED', 'PUBLIC'],
  'B viewer': ['SHARED', 'PUBLIC'],
  'C submitter': ['PUBLIC'],
  anonymous: ['PUBLIC'],
};

interface Objects {
  dataset: string;
  subject: string;
  roi: string;
  stimulusSet: string;
  responseSet: string;
  responseArtifact: string;
  model: string;
  modelArtifact: string;
  featureSet: string;
  run: string;
  outputArtifact: string;
  /** A public model whose backbone is this one. */
  dependentModel: string;
  /** A public run that evaluated this model on this subject, scored on this ROI. */
  probeRun: string;
  /** A benchmark on this dataset. */
  benchmark: string;
  /** A VQA benchmark (global, like every benchmark) whose questions are about this dataset's images. */
  vqaBenchmark: string;
  vqaSourceArtifact: string;
}

let api: TestApi;
let labA: string;
let labB: string;
let benchmarkId: string;
let probeBenchmarkId: string;
/** A public model with features on every stimulus set above. */
let featureProbeModel: string;
const objects = {} as Record<Vis, Objects>;
const tokens: Record<string, string | 'operator' | 'anonymous'> = { operator: 'operator', anonymous: 'anonymous' };

const client = (viewer: string) => {
  const t = tokens[viewer];
  return api.as(t === 'operator' || t === 'anonymous' ? t : { token: t });
};

async function seed(): Promise<void> {
  const db = api.db;
  const bench = await db.benchmark.create({ data: { name: uniqueName('bench'), kind: 'ENCODING', metric: 'pearson_r.mean' } });
  benchmarkId = bench.id;
  const probeBench = await db.benchmark.create({ data: { name: uniqueName('probe'), kind: 'ENCODING', metric: 'pearson_r.mean' } });
  probeBenchmarkId = probeBench.id;
  const featureProbe = await db.model.create({ data: { labId: labB, name: uniqueName('probe-model'), kind: 'BACKBONE', visibility: 'PUBLIC' } });
  featureProbeModel = featureProbe.id;
  const provenance = { codeVersion: 'test', inputs: { responses: 'a'.repeat(64) } };
  let i = 0;
  for (const v of VIS) {
    const sharedWith = v === 'SHARED' ? [labB] : [];
    const art = (name: string) => storeArtifact(api.services, Buffer.from(`${v}-${name}-${uniqueName('bytes')}`), { filename: `${name}.npy`, labId: labA });
    const dataset = await db.dataset.create({ data: { labId: labA, name: uniqueName(`ds-${v}`), visibility: v, sharedWith } });
    const subject = await db.subject.create({ data: { datasetId: dataset.id, name: 'subj01', nVoxels: 4, rois: { create: [{ name: 'FFA', voxelIndices: [0, 1] }] } }, include: { rois: true } });
    const stimulusSet = await db.stimulusSet.create({ data: { datasetId: dataset.id, name: 'images', stimuli: { create: [{ position: 0, externalId: 'img-0' }] } } });
    const responseArtifact = await art('betas');
    const responseSet = await db.responseSet.create({ data: { subjectId: subject.id, stimulusSetId: stimulusSet.id, artifactId: responseArtifact.id, status: 'READY' } });
    const modelArtifact = await art('model');
    const model = await db.model.create({ data: { labId: labA, name: uniqueName(`m-${v}`), kind: 'BACKBONE', family: 'probe', artifactId: modelArtifact.id, visibility: v, sharedWith } });
    const featureSet = await db.featureSet.create({ data: { modelId: model.id, stimulusSetId: stimulusSet.id, status: 'READY' } });
    await db.featureSet.create({ data: { modelId: featureProbeModel, stimulusSetId: stimulusSet.id, status: 'READY' } });
    const outputArtifact = await art('pearsonR');
    const run = await db.run.create({
      data: {
        labId: labA, kind: 'ENCODING_RIDGE', status: 'SUCCEEDED', params: {}, provenance, outputs: { pearsonR: outputArtifact.id },
        benchmarkId: bench.id, visibility: v, sharedWith,
        scores: { create: [{ metric: 'pearson_r.mean', scope: 'all', value: 0.1 * ++i, benchmarkId: bench.id }] },
      },
    });
    const dependent = await db.model.create({ data: { labId: labB, name: uniqueName('dep'), kind: 'ENCODER', backboneId: model.id, visibility: 'PUBLIC' } });
    const probeRun = await db.run.create({
      data: {
        labId: labB, kind: 'ENCODING_RIDGE', status: 'SUCCEEDED', params: {}, provenance, benchmarkId: probeBench.id, visibility: 'PUBLIC',
        modelId: model.id, subjectId: subject.id,
        scores: { create: [{ metric: 'pearson_r.mean', scope: 'all', value: 0.1 * i, benchmarkId: probeBench.id, roiId: subject.rois[0].id }] },
      },
    });
    const benchmark = await db.benchmark.create({ data: { name: uniqueName('on-ds'), kind: 'ENCODING', metric: 'pearson_r.mean', datasetId: dataset.id } });
    const vqaFile = await art('questions');
    const stimulus = await db.stimulus.findFirstOrThrow({ where: { stimulusSetId: stimulusSet.id } });
    const vqa = await db.benchmark.create({
      data: {
        name: uniqueName('vqa'), kind: 'VQA', metric: 'vqa_accuracy',
        vqaSource: { create: { artifactId: vqaFile.id, sha256: vqaFile.sha256, stimulusSetId: stimulusSet.id, nQuestions: 1 } },
        vqaQuestions: { create: [{ questionId: 'q1', stimulusId: stimulus.id, category: 'color', question: 'What color?', answerType: 'open', answers: ['red'], line: 2 }] },
      },
    });
    objects[v] = {
      dataset: dataset.id, subject: subject.id, roi: subject.rois[0].id, stimulusSet: stimulusSet.id, responseSet: responseSet.id,
      responseArtifact: responseArtifact.id, model: model.id, modelArtifact: modelArtifact.id, featureSet: featureSet.id, run: run.id,
      outputArtifact: outputArtifact.id, dependentModel: dependent.id, probeRun: probeRun.id, benchmark: benchmark.id,
      vqaBenchmark: vqa.id, vqaSourceArtifact: vqaFile.id,
    };
  }
}

beforeAll(async () => {
  api = await startTestApi();
  labA = await createLab(api, 'A');
  labB = await createLab(api, 'B');
  const labC = await createLab(api, 'C');
  tokens['A admin'] = (await addMember(api, labA, 'ADMIN')).token;
  tokens['A viewer'] = (await addMember(api, labA, 'VIEWER')).token;
  tokens['B viewer'] = (await addMember(api, labB, 'VIEWER')).token;
  tokens['C submitter'] = (await addMember(api, labC, 'SUBMITTER')).token;
  await seed();
});
afterAll(() => api?.close());

type Sees = (c: ReturnType<typeof client>, o: Objects) => Promise<boolean>;
const byId = (field: keyof Objects): Sees => async (c, o) => {
  const data = await c.ok(`query($id: ID!) { x: ${field}(id: $id) { id } }`, { id: o[field] });
  return data.x !== null;
};
const downloadable = (path: string, pick: (data: any) => any): Sees => async (c, o) => {
  const data = await c.ok(`query($id: ID!) { ${path} }`, { id: o.responseSet });
  const url = pick(data);
  return typeof url === 'string' && url.length > 0;
};

/** Each path answers: is lab A's object of this visibility reachable by the viewer here? */
const PATHS: [string, Sees][] = [
  ['dataset(id)', byId('dataset')],
  ['subject(id)', byId('subject')],
  ['stimulusSet(id)', byId('stimulusSet')],
  ['responseSet(id)', byId('responseSet')],
  ['model(id)', byId('model')],
  ['featureSet(id)', byId('featureSet')],
  ['run(id)', byId('run')],
  [
    'benchmark(id) on the dataset, and its dataset',
    async (c, o) => {
      const { benchmark } = await c.ok(`query($id: ID!) { benchmark(id: $id) { name dataset { id } } }`, { id: o.benchmark });
      // A benchmark follows its dataset: readable together or not at all.
      if (benchmark) expect(benchmark.dataset).not.toBeNull();
      return benchmark !== null;
    },
  ],
  [
    'benchmarks list (a benchmark on the dataset, and a VQA benchmark on its images)',
    async (c, o) => {
      const { benchmarks } = await c.ok(`{ benchmarks { id } }`);
      const ids = new Set(benchmarks.map((b: any) => b.id));
      expect(ids.has(o.benchmark)).toBe(ids.has(o.vqaBenchmark));
      // Benchmarks about no dataset are listed to everyone.
      expect(ids.has(benchmarkId) && ids.has(probeBenchmarkId)).toBe(true);
      return ids.has(o.benchmark);
    },
  ],
  [
    'leaderboard(benchmarkId) of the benchmark on the dataset',
    async (c, o) => {
      const res = await c.gql(`query($b: ID!) { leaderboard(benchmarkId: $b) { totalCount } }`, { b: o.benchmark });
      if (res.errors) expect(res.errors[0].extensions.code).toBe('NOT_FOUND');
      return !res.errors;
    },
  ],
  [
    'datasets connection (edges and totalCount)',
    async (c, o) => {
      const { datasets } = await c.ok(`query($lab: ID!) { datasets(first: 100, filter: { labId: $lab }) { totalCount edges { node { id } } } }`, { lab: labA });
      expect(datasets.totalCount).toBe(datasets.edges.length);
      return datasets.edges.some((e: any) => e.node.id === o.dataset);
    },
  ],
  [
    'models connection (edges and totalCount)',
    async (c, o) => {
      const { models } = await c.ok(`query($lab: ID!) { models(first: 100, filter: { labId: $lab }) { totalCount edges { node { id } } } }`, { lab: labA });
      expect(models.totalCount).toBe(models.edges.length);
      return models.edges.some((e: any) => e.node.id === o.model);
    },
  ],
  [
    'runs connection (edges and totalCount)',
    async (c, o) => {
      const { runs } = await c.ok(`query($lab: ID!) { runs(first: 100, filter: { labId: $lab }) { totalCount edges { node { id } } } }`, { lab: labA });
      expect(runs.totalCount).toBe(runs.edges.length);
      return runs.edges.some((e: any) => e.node.id === o.run);
    },
  ],
  [
    'leaderboard rows and totalCount',
    async (c, o) => {
      const { leaderboard } = await c.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, first: 100) { totalCount edges { node { run { id } } } } }`, { b: benchmarkId });
      expect(leaderboard.totalCount).toBe(leaderboard.edges.length);
      return leaderboard.edges.some((e: any) => e.node.run?.id === o.run);
    },
  ],
  [
    'leaderboard row -> model and subject',
    async (c, o) => {
      const { leaderboard } = await c.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, first: 100) { edges { node { model { id } subject { id } } } } }`, { b: probeBenchmarkId });
      const models = leaderboard.edges.filter((e: any) => e.node.model?.id === o.model).length;
      const subjects = leaderboard.edges.filter((e: any) => e.node.subject?.id === o.subject).length;
      expect(models).toBe(subjects);
      return models > 0;
    },
  ],
  ['public run -> scores -> roi', async (c, o) => (await c.ok(`query($id: ID!) { run(id: $id) { scores { roi { id } } } }`, { id: o.probeRun })).run.scores[0].roi !== null],
  ['public model -> backbone', async (c, o) => (await c.ok(`query($id: ID!) { model(id: $id) { backbone { id } } }`, { id: o.dependentModel })).model.backbone !== null],
  [
    'public model -> featureSets -> stimulusSet',
    async (c, o) => {
      const { model } = await c.ok(`query($id: ID!) { model(id: $id) { featureSets { stimulusSet { id } } } }`, { id: featureProbeModel });
      return model.featureSets.some((f: any) => f.stimulusSet?.id === o.stimulusSet);
    },
  ],
  ['artifact(id): response array', async (c, o) => (await c.ok(`query($id: ID!) { artifact(id: $id) { downloadUrl } }`, { id: o.responseArtifact })).artifact !== null],
  ['artifact(id): model file', async (c, o) => (await c.ok(`query($id: ID!) { artifact(id: $id) { downloadUrl } }`, { id: o.modelArtifact })).artifact !== null],
  ['artifact(id): run output', async (c, o) => (await c.ok(`query($id: ID!) { artifact(id: $id) { downloadUrl } }`, { id: o.outputArtifact })).artifact !== null],
  ['responseSet -> artifact.downloadUrl', downloadable('responseSet(id: $id) { artifact { downloadUrl } }', (d) => d.responseSet?.artifact?.downloadUrl)],
  [
    'run -> outputs -> artifact.downloadUrl',
    async (c, o) => (await c.ok(`query($id: ID!) { run(id: $id) { outputs { artifact { downloadUrl } } } }`, { id: o.run })).run?.outputs[0]?.artifact.downloadUrl !== undefined,
  ],
  [
    'benchmark.vqa -> stimulusSet, source, and vqaQuestions',
    async (c, o) => {
      const { benchmark } = await c.ok(`query($id: ID!) { benchmark(id: $id) { vqa { nQuestions nImages categories { name } stimulusSet { id } source { downloadUrl } } vqaQuestions { questionId } } }`, { id: o.vqaBenchmark });
      // Its categories and counts come from the private images' questions: hidden with them.
      if (!benchmark) return false;
      expect(benchmark.vqa.categories.map((x: any) => x.name)).toEqual(['color']);
      const seen = [benchmark.vqa.stimulusSet !== null, benchmark.vqa.source !== null, benchmark.vqaQuestions.length > 0];
      expect(new Set(seen).size).toBe(1);
      return seen[0];
    },
  ],
  ['artifact(id): VQA benchmark file', async (c, o) => (await c.ok(`query($id: ID!) { artifact(id: $id) { downloadUrl } }`, { id: o.vqaSourceArtifact })).artifact !== null],
  [
    'dataset -> subjects -> responseSets',
    async (c, o) => {
      const { dataset } = await c.ok(`query($id: ID!) { dataset(id: $id) { subjects { responseSets { id } } } }`, { id: o.dataset });
      return dataset?.subjects[0]?.responseSets[0]?.id === o.responseSet;
    },
  ],
];

describe.each(Object.keys(ALLOWED))('as %s', (viewer) => {
  it.each(PATHS)('%s', async (_name, sees) => {
    const c = client(viewer);
    const seen: Vis[] = [];
    for (const v of VIS) if (await sees(c, objects[v])) seen.push(v);
    expect(seen).toEqual(ALLOWED[viewer]);
  });
});
