// The layer-sweep demo: two subjects who saw the demo images, a small CNN backbone run on those
// images, and responses whose V1, V4 and FFA parts were generated from that CNN's stage1, stage2
// and stage3 features (src/embedded/demo-data.ts, demoLayerData). Seeding computes the features
// once in-process with the worker's own pipeline (decode, preprocess, ONNX, pooling) to plant the
// responses, then imports the images and responses and queues one FEATURE_EXTRACTION run per
// subject; the layer sweep (queued from seed.ts once those are READY) runs on the extracted
// feature sets, so the planted truth and the swept features come from the same model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Log } from '../log';
import type { Services } from '../services';
import { domainContext } from '../domain/context';
import { storeArtifact } from '../domain/artifacts';
import { createDataset, createStimulusSet, createSubject, registerModel } from '../domain/catalog';
import { submitFeatureExtraction } from '../domain/feature-extraction';
import { importResponseSet } from '../domain/imports';
import { importStimulusImages } from '../domain/stimulus-images';
import { sharedEngine } from '../compute/engine-instance';
import { backboneGraph, dryRunBackbone, META, readBackboneGraph } from '../compute/vision/backbone';
import { parseContract } from '../compute/vision/preprocess';
import { runExtraction } from '../images/pipeline';
import { writeTar } from '../images/archive-writer';
import { encodeNpy } from '../storage';
import { demoImages, DEMO_IMAGE_SIZE } from './demo-images';
import { demoLayerData, demoLayerStimulusCount, DEMO_LAYER_DATASET, DEMO_LAYER_MODEL, DEMO_LAYERS, type DemoLayerOptions } from './demo-data';

export const DEMO_LAYER_ONNX = join(__dirname, '../../models/backbones/tiny-cnn.onnx');

/** PNG files of images as the archive import receives them. */
async function pngs(images: ReturnType<typeof demoImages>): Promise<Buffer[]> {
  return Promise.all(images.map((im) => sharp(im.pixels, { raw: { width: DEMO_IMAGE_SIZE, height: DEMO_IMAGE_SIZE, channels: 3 } }).png().toBuffer()));
}

/**
 * Pooled features of `layers` of the ONNX backbone `bytes` on image files, exactly as
 * FEATURE_EXTRACTION computes them (same contract from the file's metadata, same decode and
 * preprocessing, same batched engine call): layer -> (n_images, width).
 */
export async function backboneFeatures(bytes: Uint8Array, files: Uint8Array[], layers: readonly string[]) {
  const engine = await sharedEngine();
  const graph = readBackboneGraph(bytes);
  const contract = parseContract(JSON.parse(graph.metadata.get(META.preprocess)!));
  const pooling = graph.metadata.has(META.pooling) ? JSON.parse(graph.metadata.get(META.pooling)!) : {};
  const key = `demo-${DEMO_LAYER_MODEL}`;
  const all = await dryRunBackbone(engine, bytes, key, graph, contract, pooling);
  const chosen = layers.map((name) => all.find((l) => l.name === name)!);
  const out = chosen.map((l) => new Float32Array(files.length * l.width));
  await runExtraction({
    engine,
    graph: backboneGraph(bytes, key, graph, layers),
    inputName: graph.inputName,
    contract,
    layers: chosen,
    nImages: files.length,
    batchSize: 32,
    load: async (i) => files[i],
    rows: async (start, _count, perLayer) => perLayer.forEach((r, k) => out[k].set(r, start * chosen[k].width)),
  });
  return Object.fromEntries(chosen.map((l, k) => [l.name, { data: out[k], rows: files.length, cols: l.width }]));
}

/** The layer demo's images (PNG) and data: responses planted on the CNN's own features. */
export async function demoLayerInputs(options: DemoLayerOptions = {}) {
  const images = demoImages(demoLayerStimulusCount(options));
  const files = await pngs(images);
  const features = await backboneFeatures(readFileSync(DEMO_LAYER_ONNX), files, DEMO_LAYERS);
  const data = demoLayerData(features, images, options);
  const fileOf = new Map(images.map((im, i) => [im.externalId, files[i]]));
  return { data, fileOf };
}

/** Seeds the layer demo once (false when its dataset exists already). */
export async function seedLayerDemo(services: Services, log: Log): Promise<boolean> {
  const ctx = domainContext(services);
  const labId = services.defaultLabId;
  const existing = await services.db.dataset.findUnique({ where: { labId_name: { labId, name: DEMO_LAYER_DATASET } } });
  if (existing) return false;
  const started = Date.now();
  const { data, fileOf } = await demoLayerInputs();
  const dataset = await createDataset(ctx, { name: DEMO_LAYER_DATASET, description: data.description, visibility: 'PUBLIC' });
  const model =
    (await services.db.model.findUnique({ where: { labId_name: { labId, name: DEMO_LAYER_MODEL } } })) ??
    (await registerModel(ctx, {
      name: DEMO_LAYER_MODEL,
      kind: 'BACKBONE',
      family: data.model.family,
      description: 'Four conv stages with seeded random weights (models/backbones/test_backbones.py)',
      artifactId: (await storeArtifact(services, readFileSync(DEMO_LAYER_ONNX), { filename: 'tiny-cnn.onnx', labId })).id,
      visibility: 'PUBLIC',
    }));
  for (const s of data.subjects) {
    const subject = await createSubject(ctx, { datasetId: dataset.id, name: s.name, nVoxels: s.nVoxels, rois: s.rois });
    const set = await createStimulusSet(ctx, { datasetId: dataset.id, name: `${s.name}-layer-images`, description: s.stimulusDescription, stimuli: s.stimuli });
    const archive = writeTar(s.stimuli.map((st) => ({ name: `${st.externalId}.png`, data: fileOf.get(st.externalId)! })));
    const stored = await storeArtifact(services, archive, { filename: `${s.name}-layer-images.tar`, labId });
    await importStimulusImages(ctx, { stimulusSetId: set.id, artifactId: stored.id });
    const shape = [s.nRepeats, s.stimuli.length, s.nVoxels];
    const betas = await storeArtifact(services, Buffer.from(encodeNpy({ dtype: '<f4', shape, data: s.responses })), { filename: `${s.name}-layer-betas.npy`, labId, dtype: '<f4', shape });
    await importResponseSet(ctx, { subjectId: subject.id, stimulusSetId: set.id, artifactId: betas.id, idempotencyKey: `seed-layers-${s.name}-betas` });
    await submitFeatureExtraction(ctx, { modelId: model.id, stimulusSetId: set.id, layers: [...DEMO_LAYERS], idempotencyKey: `seed-layers-${s.name}-features` });
  }
  log('info', 'layer-sweep demo seeded', { dataset: DEMO_LAYER_DATASET, model: DEMO_LAYER_MODEL, layers: data.layers, ms: Date.now() - started });
  return true;
}
