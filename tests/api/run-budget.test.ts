// Parameters that scale a worker's memory are bounded by what one worker holds (WORKER_MEMORY_MB),
// and refused before anything is queued, with the bound in the message. The bounds below are
// written out from the arrays each kernel allocates (src/domain/run-budget.ts explains them).
import { startTestApi, type RecordingQueue, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';

jest.setTimeout(60_000);

let api: TestApi;
const RIDGE = `mutation($i: EncodingRidgeInput!) { submitEncodingRidge(input: $i) { id } }`;
const SWEEP = `mutation($i: LayerSweepInput!) { submitLayerSweep(input: $i) { id } }`;
const EXTRACT = `mutation($i: SubmitFeatureExtractionInput!) { submitFeatureExtraction(input: $i) { id } }`;

/** A READY feature and response set over nStimuli stimuli of a subject with nVoxels voxels (rows only: nothing runs). */
async function catalog(nStimuli: number, nVoxels: number) {
  const db = api.db;
  const lab = api.services.defaultLabId;
  const dataset = await db.dataset.create({ data: { labId: lab, name: uniqueName('budget') } });
  const set = await db.stimulusSet.create({ data: { datasetId: dataset.id, name: 'images' } });
  await db.stimulus.createMany({ data: Array.from({ length: nStimuli }, (_, i) => ({ stimulusSetId: set.id, position: i, externalId: `img-${i}` })) });
  const subject = await db.subject.create({ data: { datasetId: dataset.id, name: 'subj01', nVoxels } });
  const model = await db.model.create({
    data: {
      labId: lab, name: uniqueName('bb'), kind: 'BACKBONE',
      preprocessing: { inputSize: [224, 224] },
      // A ViT-B/16-like graph: 197 tokens x 768 per layer.
      layers: [{ name: 'block.11', shape: [197, 768], width: 768, pooling: 'cls' }],
    },
  });
  const fs = await db.featureSet.create({ data: { modelId: model.id, stimulusSetId: set.id, layer: 'block.11', status: 'READY', dim: 8 } });
  const rs = await db.responseSet.create({ data: { subjectId: subject.id, stimulusSetId: set.id, status: 'READY' } });
  return { set, model, fs, rs };
}

const testIds = (n: number) => Array.from({ length: n }, (_, i) => `img-${i}`);
const queued = () => (api.services.queue as RecordingQueue).enqueued.length;

describe('at the default WORKER_MEMORY_MB (4096)', () => {
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  it('refuses 60,000 ridge bootstrap resamples over 1,000 test stimuli x 40,000 voxels, naming the largest that fits', async () => {
    const { fs, rs } = await catalog(1100, 40_000);
    // Per resample: 2 x 1000 indices and counts + 40,000 voxel metrics + 5 x 4,096 moments, 4 bytes each.
    const perSample = 4 * (2 * 1000 + 40_000 + 5 * 4096);
    const max = Math.floor((4096 * 1024 * 1024 * 0.5) / perSample);
    expect(max).toBe(8592);
    const before = queued();
    const runsBefore = await api.db.run.count();
    const res = await api.gql(RIDGE, { i: { featureSetId: fs.id, responseSetId: rs.id, testStimulusIds: testIds(1000), bootstrapSamples: 60_000 } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bootstrapSamples', max });
    expect(res.errors?.[0].message).toContain(`at most ${max} resamples`);
    expect(res.errors?.[0].message).toContain('WORKER_MEMORY_MB');
    expect(queued()).toBe(before);
    expect(await api.db.run.count()).toBe(runsBefore);

    // The bound itself is accepted, and so is a layer sweep at it; one more is refused for the sweep too.
    expect((await api.gql(RIDGE, { i: { featureSetId: fs.id, responseSetId: rs.id, testStimulusIds: testIds(1000), bootstrapSamples: max } })).errors).toBeUndefined();
    const sweep = (n: number) => api.gql(SWEEP, { i: { modelId: fs.modelId, responseSetId: rs.id, testStimulusIds: testIds(1000), bootstrapSamples: n } });
    expect((await sweep(max)).errors).toBeUndefined();
    expect((await sweep(max + 1)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', max });
  });

  it('refuses a feature-extraction batch whose images and layer outputs do not fit', async () => {
    const { set, model } = await catalog(10, 4);
    // Per image: 2 batches x (decoded + preprocessed) 3 x 224 x 224 floats + 197 x 768 layer values, 4 bytes each.
    const perImage = 4 * (2 * 2 * 3 * 224 * 224 + 197 * 768);
    const max = Math.floor((4096 * 1024 * 1024 * 0.5) / perImage);
    expect(max).toBe(712);
    const res = await api.gql(EXTRACT, { i: { modelId: model.id, stimulusSetId: set.id, batchSize: 1000 } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'batchSize', max });
    expect(res.errors?.[0].message).toContain(`at most ${max} images per batch`);
  });
});

describe('with a small worker (WORKER_MEMORY_MB=1)', () => {
  beforeAll(async () => {
    api = await startTestApi({ env: { WORKER_MEMORY_MB: '1' } });
  });
  afterAll(() => api?.close());

  it('scales the bound with the worker: 4 test stimuli x 4 voxels allow 4,096 resamples in half a megabyte', async () => {
    const { fs, rs } = await catalog(20, 4);
    const perSample = 4 * (2 * 4 + 4 + 5 * 4); // 128 bytes
    const max = Math.floor((1024 * 1024 * 0.5) / perSample);
    expect(max).toBe(4096);
    const submit = (n: number) => api.gql(RIDGE, { i: { featureSetId: fs.id, responseSetId: rs.id, testStimulusIds: testIds(4), bootstrapSamples: n } });
    expect((await submit(max + 1)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', max });
    expect((await submit(max)).errors).toBeUndefined();
  });
});
