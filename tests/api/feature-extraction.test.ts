// Backbones registered with their ONNX file and FEATURE_EXTRACTION runs, end to end through the
// API and the in-process worker. Features are compared with PyTorch's forward on the PIL +
// torchvision pipeline (scripts/fixtures/vision_reference.py), not with this code's output.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { onnx } from 'onnx-proto';
import { GraphBuilder } from '../../src/compute/onnx';
import { writeZip } from '../../src/images/archive-writer';
import { decodeNpy } from '../../src/storage/npy';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';

const FIX = join(__dirname, '../fixtures/vision');
const MODELS = join(__dirname, '../../models/backbones');
const images = readdirSync(join(FIX, 'images')).sort();
const stem = (n: string) => n.replace(/\.\w+$/, '');
const REGISTER = `mutation($i: RegisterModelInput!) { registerModel(input: $i) { id featureWidth layers { name shape width pooling } preprocessing } }`;
const SUBMIT = `mutation($i: SubmitFeatureExtractionInput!) { submitFeatureExtraction(input: $i) { id status } }`;

let api: TestApi;
let setId: string;
let bareSetId: string;
beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  const { createDataset: ds } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name: uniqueName('fx') } });
  const stimuli = images.map((n) => ({ externalId: stem(n) }));
  ({ createStimulusSet: { id: setId } } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, { i: { datasetId: ds.id, name: 'images', stimuli } }));
  ({ createStimulusSet: { id: bareSetId } } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
    i: { datasetId: ds.id, name: 'no-images', stimuli: Array.from({ length: 12 }, (_, i) => ({ externalId: `s${i}` })) },
  }));
  const zip = writeZip(images.map((n) => ({ name: n, data: readFileSync(join(FIX, 'images', n)) })));
  const art = await uploadArtifact(api, zip, 'images.zip');
  await api.ok(`mutation($i: ImportStimulusImagesInput!) { importStimulusImages(input: $i) { attached } }`, { i: { stimulusSetId: setId, artifactId: art.id } });
});
afterAll(() => api.close());

async function register(file: string | Uint8Array, extra: Record<string, unknown> = {}) {
  const bytes = typeof file === 'string' ? readFileSync(join(MODELS, file)) : file;
  const art = await uploadArtifact(api, bytes, typeof file === 'string' ? file : 'model.onnx');
  return api.gql(REGISTER, { i: { name: uniqueName('bb'), kind: 'BACKBONE', artifactId: art.id, ...extra } });
}

test('registration reads the graph, the metadata contract and records each layer from a dry run', async () => {
  const res = await register('tiny-vit.onnx');
  expect(res.errors).toBeUndefined();
  const m = res.data!.registerModel;
  expect(m.layers).toEqual([
    { name: 'block1', shape: [65, 32], width: 32, pooling: 'cls' },
    { name: 'block2', shape: [65, 32], width: 32, pooling: 'mean' },
  ]);
  expect(m.preprocessing).toMatchObject({ inputSize: [64, 64], resize: 'shorter-side', resizeSize: 64, interpolation: 'bicubic', mean: [0.48145466, 0.4578275, 0.40821073] });
  const cnn = (await register('tiny-cnn.onnx', { pooling: { stage4: 'flatten' } })).data!.registerModel;
  expect(cnn.layers.map((l: any) => [l.name, l.width, l.pooling])).toEqual([['stage1', 8, 'gap'], ['stage2', 16, 'gap'], ['stage3', 24, 'gap'], ['stage4', 32 * 4 * 4, 'flatten'], ['logits', 10, 'none']]);
});

test('registration refuses what is not an image backbone, contradictions and pooling that does not fit', async () => {
  const icl = await register(readFileSync(join(__dirname, '../../models/braincorl/reference.onnx')));
  expect(icl.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'artifactId' });
  expect(icl.errors![0].message).toMatch(/not an image backbone: it has 2 inputs/);

  const given = await register('tiny-cnn.onnx', { preprocessing: { preset: 'clip' } });
  expect(given.errors![0].extensions).toMatchObject({ field: 'preprocessing', given: expect.objectContaining({ interpolation: 'bicubic' }), file: expect.objectContaining({ interpolation: 'bilinear' }) });

  // Without metadata, a contract of the wrong size contradicts the graph's fixed 64 x 64 input.
  const model = onnx.ModelProto.decode(readFileSync(join(MODELS, 'tiny-cnn.onnx')));
  model.metadataProps = [];
  const bare = onnx.ModelProto.encode(model).finish();
  const wrong = await register(bare, { preprocessing: { preset: 'imagenet' } });
  expect(wrong.errors![0].extensions).toMatchObject({ field: 'preprocessing.inputSize', graph: [64, 64], preprocessing: [224, 224] });
  expect(wrong.errors![0].message).toMatch(/224 x 224 .* fixed at 64 x 64/);
  const none = await register(bare);
  expect(none.errors![0].extensions.field).toBe('preprocessing');

  const badPool = await register('tiny-cnn.onnx', { pooling: { stage1: 'cls' } });
  expect(badPool.errors![0].message).toMatch(/Pooling cls needs a layer shaped \[B, T, C\], but stage1 gives \[B, 8, 32, 32\]/);
  const unknownLayer = await register('tiny-cnn.onnx', { pooling: { stage9: 'gap' } });
  expect(unknownLayer.errors![0].message).toMatch(/stage9, which is not a layer/);
});

test('extraction gives PyTorch features for every layer, one READY feature set each', async () => {
  const m = (await register('tiny-cnn.onnx')).data!.registerModel;
  const { submitFeatureExtraction: run } = await api.ok(SUBMIT, { i: { modelId: m.id, stimulusSetId: setId, layers: ['stage2', 'logits'], batchSize: 5 } });
  const done = await waitForRun(api, run.id);
  expect(done.status).toBe('SUCCEEDED');
  expect(done.provenance).toMatchObject({ model: { sha256: expect.any(String) }, preprocessing: { interpolation: 'bilinear' }, engine: { provider: expect.any(String), onnxruntimeVersion: expect.any(String) }, batchSize: 5 });
  const { model } = await api.ok(`query($id: ID!) { model(id: $id) { featureSets { layer status dim artifact { shape downloadUrl } } } }`, { id: m.id });
  expect(model.featureSets.map((f: any) => [f.layer, f.status, f.dim, f.artifact.shape])).toEqual([['stage2', 'READY', 16, [13, 16]], ['logits', 'READY', 10, [13, 10]]]);
  for (const f of model.featureSets) {
    const got = decodeNpy(new Uint8Array(await (await fetch(f.artifact.downloadUrl)).arrayBuffer())).data as Float32Array;
    const ref = decodeNpy(readFileSync(join(FIX, 'tiny-cnn', `${f.layer}.npy`))).data as Float32Array;
    for (let k = 0; k < images.length; k++) {
      // Preprocessing is bit-identical to PIL + torchvision except CMYK and alpha rounding.
      if (/cmyk|rgba/.test(images[k])) continue;
      for (let j = 0; j < f.dim; j++) {
        const r = ref[k * f.dim + j];
        expect(Math.abs(got[k * f.dim + j] - r)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(r)));
      }
    }
  }
});

test('refused before queueing: stimuli without images, unknown layers, models that are not backbones', async () => {
  const m = (await register('tiny-vit.onnx')).data!.registerModel;
  const lacking = await api.gql(SUBMIT, { i: { modelId: m.id, stimulusSetId: bareSetId } });
  expect(lacking.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'stimulusSetId', count: 12 });
  expect(lacking.errors![0].extensions.withoutImage).toHaveLength(10);
  expect(lacking.errors![0].message).toMatch(/^12 stimuli have no image \(first: s0, s1/);
  const layer = await api.gql(SUBMIT, { i: { modelId: m.id, stimulusSetId: setId, layers: ['block1', 'block7', 'head'] } });
  expect(layer.errors![0].extensions).toMatchObject({ field: 'layers', unknown: ['block7', 'head'], count: 2 });
  const { registerModel: plain } = await api.ok(REGISTER, { i: { name: uniqueName('plain'), kind: 'BACKBONE', featureWidth: 4 } });
  const noFile = await api.gql(SUBMIT, { i: { modelId: plain.id, stimulusSetId: setId } });
  expect(noFile.errors![0].message).toMatch(/backbone without its ONNX file/);
  expect(await api.db.run.count({ where: { kind: 'FEATURE_EXTRACTION', modelId: { in: [m.id, plain.id] } } })).toBe(0);
});

test('a model giving a non-finite feature fails the run naming the stimulus, and leaves no feature set', async () => {
  // log(mean over pixels + 1): finite for the dry-run image, -inf for a black image.
  const g = new GraphBuilder('logmean');
  const x = g.input('pixels', 'float32', ['B', 3, 8, 8]);
  const mean = g.node('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  g.output(g.node('Log', [g.node('Add', [mean, g.constant([1], 'float32', [1])])]), 'logmean', 'float32', ['B', 3]);
  const bytes = g.build().bytes;
  const res = await register(bytes, { preprocessing: { inputSize: 8, resize: 'direct', interpolation: 'bilinear', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } });
  expect(res.errors).toBeUndefined();
  const m = res.data!.registerModel;
  const { createDataset: ds } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name: uniqueName('nan') } });
  const { createStimulusSet: set } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
    i: { datasetId: ds.id, name: 'two', stimuli: [{ externalId: 'grey' }, { externalId: 'black' }] },
  });
  const png = (v: number) => sharp({ create: { width: 10, height: 10, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();
  const zip = writeZip([{ name: 'grey.png', data: await png(128) }, { name: 'black.png', data: await png(0) }]);
  const art = await uploadArtifact(api, zip, 'two.zip');
  await api.ok(`mutation($i: ImportStimulusImagesInput!) { importStimulusImages(input: $i) { attached } }`, { i: { stimulusSetId: set.id, artifactId: art.id } });
  const { submitFeatureExtraction: run } = await api.ok(SUBMIT, { i: { modelId: m.id, stimulusSetId: set.id } });
  const done = await waitForRun(api, run.id);
  expect(done.status).toBe('FAILED');
  expect(done.error.message).toMatch(/non-finite feature \(-Infinity\) in layer logmean for stimulus black/);
  expect(await api.db.featureSet.count({ where: { modelId: m.id } })).toBe(0);
});

test('cancelled between batches: the run ends CANCELLED and no feature set is made', async () => {
  const m = (await register('tiny-cnn.onnx')).data!.registerModel;
  // 200 images one per batch: long enough that the cancel lands mid-run.
  const { createDataset: ds } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name: uniqueName('cancel') } });
  const ids = Array.from({ length: 200 }, (_, i) => `c${i}`);
  const { createStimulusSet: big } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, { i: { datasetId: ds.id, name: 'many', stimuli: ids.map((externalId) => ({ externalId })) } });
  const one = readFileSync(join(FIX, 'images', '12-nsd-size.jpg'));
  const art = await uploadArtifact(api, writeZip(ids.map((id) => ({ name: `${id}.jpg`, data: one }))), 'many.zip');
  await api.ok(`mutation($i: ImportStimulusImagesInput!) { importStimulusImages(input: $i) { attached } }`, { i: { stimulusSetId: big.id, artifactId: art.id } });
  const { submitFeatureExtraction: run } = await api.ok(SUBMIT, { i: { modelId: m.id, stimulusSetId: big.id, batchSize: 1 } });
  // Wait for the first batch's progress, then cancel; the worker notices at its next batch.
  for (let i = 0; i < 200; i++) {
    const { run: r } = await api.ok(`query($id: ID!) { run(id: $id) { status progress } }`, { id: run.id });
    if (r.progress > 0 || r.status !== 'QUEUED') break;
    await new Promise((res) => setTimeout(res, 10));
  }
  await api.ok(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: run.id });
  const done = await waitForRun(api, run.id);
  expect(done.status).toBe('CANCELLED');
  expect(await api.db.featureSet.count({ where: { modelId: m.id } })).toBe(0);
});
