// The demo catalog the embedded profile seeds on first start: a synthetic NSD-like dataset
// (subjects with named ROIs, images with concepts and captions, two backbones' features, responses
// with 3 repeats), imported through the same mutations and jobs a lab would use.
import type { Services } from '../services';
import type { Log } from '../log';
import { domainContext } from '../domain/context';
import { createDataset, createStimulusSet, createSubject, registerModel } from '../domain/catalog';
import { storeArtifact } from '../domain/artifacts';
import { importFeatureSet, importResponseSet } from '../domain/imports';
import { encodeNpy } from '../storage';
import { submitEncodingRidge } from '../domain/encoding';
import { createBenchmark } from '../domain/leaderboards';
import { submitLayerSweep } from '../domain/layer-sweep';
import { demoData, DEMO_DATASET, DEMO_LAYER_DATASET, DEMO_LAYER_MODEL } from './demo-data';
import { seedDemoImages } from './demo-images';
import { queueBrainSpaceDemo, seedBrainSpaceDemo } from './demo-brain-space';
import { existingRunKeys, logQueued, whenReady } from './demo-common';
import { queueInContextDemo, seedInContextDemo } from './demo-in-context';
import { queueCausalDemo, seedCausalDemo } from './demo-causal';
import { queueVqaDemo, seedVqaDemo } from './demo-vqa';
import { queueDemoRsa } from './demo-rsa';
import { seedLayerDemo } from './demo-layers';

/** The backbones the demo's encoding runs compare (both on every subject). */
export const DEMO_BACKBONES = ['clip', 'dino'];
/** The leaderboard the demo's encoding runs are scored on, so the dashboard has one to show. */
export const DEMO_BENCHMARK = 'synthetic-nsd-encoding';
/** The leaderboard of the demo's layer sweep (ranked by each ROI's CV-chosen layer). */
export const DEMO_LAYER_BENCHMARK = 'synthetic-layers-sweep';

export async function seedDemoCatalog(services: Services, log: Log): Promise<boolean> {
  const main = await seedMainDemo(services, log);
  const layers = await seedLayerDemo(services, log);
  const inContext = await seedInContextDemo(services, log);
  const causal = await seedCausalDemo(services, log);
  const vqa = await seedVqaDemo(services, log);
  const space = await seedBrainSpaceDemo(services, log);
  const seeded = main || layers || inContext || causal || vqa || space;
  if (!seeded) log('info', 'demo catalog already present: nothing seeded');
  return seeded;
}

async function seedMainDemo(services: Services, log: Log): Promise<boolean> {
  const ctx = domainContext(services);
  const existing = await services.db.dataset.findUnique({ where: { labId_name: { labId: services.defaultLabId, name: DEMO_DATASET } } });
  if (existing) return false;
  const started = Date.now();
  const data = demoData();
  const dataset = await createDataset(ctx, { name: DEMO_DATASET, description: data.description, visibility: 'PUBLIC' });
  const models = new Map<string, string>();
  for (const b of data.backbones) {
    const model = await registerModel(ctx, { name: b.name, kind: 'BACKBONE', family: b.family, featureWidth: b.width, visibility: 'PUBLIC' });
    models.set(b.name, model.id);
  }
  const save = (name: string, shape: number[], values: Float32Array) =>
    storeArtifact(services, Buffer.from(encodeNpy({ dtype: '<f4', shape, data: values })), {
      filename: name,
      labId: services.defaultLabId,
      dtype: '<f4',
      shape,
    });
  for (const s of data.subjects) {
    const subject = await createSubject(ctx, { datasetId: dataset.id, name: s.name, nVoxels: s.nVoxels, rois: s.rois });
    const set = await createStimulusSet(ctx, { datasetId: dataset.id, name: `${s.name}-images`, description: s.stimulusDescription, stimuli: s.stimuli });
    for (const [backbone, features] of s.features) {
      const artifact = await save(`${s.name}-${backbone}.npy`, [s.stimuli.length, features.width], features.values);
      await importFeatureSet(ctx, { modelId: models.get(backbone)!, stimulusSetId: set.id, artifactId: artifact.id, idempotencyKey: `seed-${s.name}-${backbone}` });
    }
    const responses = await save(`${s.name}-betas.npy`, [s.nRepeats, s.stimuli.length, s.nVoxels], s.responses);
    await importResponseSet(ctx, { subjectId: subject.id, stimulusSetId: set.id, artifactId: responses.id, idempotencyKey: `seed-${s.name}-betas` });
  }
  // Images drawn by code, a small backbone and a FEATURE_EXTRACTION run over them.
  await seedDemoImages(ctx, dataset.id, services.defaultLabId);
  log('info', 'demo catalog seeded', { dataset: DEMO_DATASET, subjects: data.subjects.length, ms: Date.now() - started });
  return true;
}

/**
 * Once the demo imports are READY, queues one ENCODING_RIDGE run per subject and backbone (the
 * 512-wide clip and 768-wide dino features) and, on the layer demo, one layer sweep, so a
 * newcomer can read scores and a layer profile minutes after the first start; then the in-context,
 * causal and VQA demos' runs (their own modules). Idempotency keys make this safe on every start;
 * each gives up quietly if its demo data is gone or an import failed.
 */
export function queueDemoEncodings(services: Services, log: Log): { stop(): void } {
  const ridge = whenReady(log, 'demo encoding runs', () => queueRidgeRuns(services, log));
  const sweep = whenReady(log, 'demo layer sweep', () => queueLayerSweep(services, log));
  const inContext = whenReady(log, 'demo in-context run', () => queueInContextDemo(services, log));
  const causal = whenReady(log, 'demo causal test', () => queueCausalDemo(services, log));
  const vqa = whenReady(log, 'demo VQA evaluations', () => queueVqaDemo(services, log));
  const space = whenReady(log, 'demo brain-space run', () => queueBrainSpaceDemo(services, log));
  const rsa = whenReady(log, 'demo RSA run', () => queueDemoRsa(services, log));
  const waiting = [ridge, sweep, inContext, causal, vqa, space, rsa];
  return { stop: () => waiting.forEach((w) => w.stop()) };
}

/**
 * Once the layer demo's imports are READY (both subjects, so the shared test split exists),
 * queues a layer sweep of subj01 over the model's three layers, scored on a benchmark that ranks
 * models by their chosen layer.
 */
async function queueLayerSweep(services: Services, log: Log): Promise<boolean> {
  const sets = await services.db.responseSet.findMany({
    where: { subject: { dataset: { labId: services.defaultLabId, name: DEMO_LAYER_DATASET } } },
    include: { subject: true },
  });
  const features = await services.db.featureSet.findMany({
    where: { model: { labId: services.defaultLabId, name: DEMO_LAYER_MODEL }, stimulusSetId: { in: sets.map((s) => s.stimulusSetId) } },
  });
  const all = [...sets, ...features];
  if (sets.length === 0 || all.some((s) => s.status === 'FAILED')) return true;
  if (all.some((s) => s.status !== 'READY')) return false;
  const target = sets.find((s) => s.subject.name === 'subj01');
  if (!target || features.filter((f) => f.stimulusSetId === target.stimulusSetId).length < 3) return false;
  const ctx = domainContext(services);
  const benchmark =
    (await services.db.benchmark.findUnique({ where: { name: DEMO_LAYER_BENCHMARK } })) ??
    (await createBenchmark(ctx, {
      name: DEMO_LAYER_BENCHMARK,
      kind: 'ENCODING',
      metric: 'layer_sweep.pearson_r.mean',
      description: 'Layer sweeps of the synthetic layer demo: each ROI at the layer chosen by cross-validation on the training images, scored by Pearson r on the shared test images',
      datasetId: target.subject.datasetId,
    }));
  const model = await services.db.model.findUniqueOrThrow({ where: { labId_name: { labId: services.defaultLabId, name: DEMO_LAYER_MODEL } } });
  const present = await existingRunKeys(services, ['demo-layer-sweep-subj01']);
  await submitLayerSweep(ctx, {
    modelId: model.id,
    responseSetId: target.id,
    bootstrapSamples: 200,
    benchmarkId: benchmark.id,
    idempotencyKey: 'demo-layer-sweep-subj01',
  });
  logQueued(log, 'demo layer sweep', present.size ? [] : ['demo-layer-sweep-subj01'], [...present], { subject: 'subj01', model: DEMO_LAYER_MODEL });
  return true;
}

async function queueRidgeRuns(services: Services, log: Log): Promise<boolean> {
  const sets = await services.db.responseSet.findMany({
    where: { subject: { dataset: { labId: services.defaultLabId, name: DEMO_DATASET } } },
    include: { subject: true },
  });
  const features = await services.db.featureSet.findMany({
    where: { model: { labId: services.defaultLabId, name: { in: DEMO_BACKBONES } }, stimulusSetId: { in: sets.map((s) => s.stimulusSetId) } },
    include: { model: true },
  });
  const all = [...sets, ...features];
  if (sets.length === 0 || all.some((s) => s.status === 'FAILED')) return true;
  if (features.length < sets.length * DEMO_BACKBONES.length || all.some((s) => s.status !== 'READY')) return false;
  const ctx = domainContext(services);
  const benchmark =
    (await services.db.benchmark.findUnique({ where: { name: DEMO_BENCHMARK } })) ??
    (await createBenchmark(ctx, {
      name: DEMO_BENCHMARK,
      kind: 'ENCODING',
      metric: 'pearson_r.mean',
      description: 'Voxelwise ridge encoding of the synthetic NSD-like demo: Pearson r on the shared test images',
      datasetId: sets[0].subject.datasetId,
    }));
  const key = (subject: string, backbone: string) => `demo-ridge-${subject}-${backbone}`;
  const present = await existingRunKeys(services, sets.flatMap((set) => DEMO_BACKBONES.map((b) => key(set.subject.name, b))));
  const queued: string[] = [];
  // Every backbone on every subject, so the first board a newcomer sees compares models.
  for (const backbone of DEMO_BACKBONES)
    for (const set of sets) {
      if (present.has(key(set.subject.name, backbone))) continue;
      const featureSet = features.find((f) => f.stimulusSetId === set.stimulusSetId && f.model.name === backbone)!;
      await submitEncodingRidge(ctx, {
        featureSetId: featureSet.id,
        responseSetId: set.id,
        bootstrapSamples: 200,
        benchmarkId: benchmark.id,
        idempotencyKey: key(set.subject.name, backbone),
      });
      queued.push(key(set.subject.name, backbone));
    }
  logQueued(log, 'demo encoding runs', queued, [...present], { subjects: sets.length, backbones: DEMO_BACKBONES });
  return true;
}
