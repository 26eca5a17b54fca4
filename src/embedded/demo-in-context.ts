// The in-context demo: a subject of the synthetic population the shipped reference encoder
// (models/braincorl/reference.onnx) was meta-trained on, but held out from that training
// (ICL_EVALUATION_SUBJECTS), registered with its backbone's features; the encoder registered from
// its ONNX file; and, once the imports are READY, one ENCODING_ICL run comparing it with ridge on
// the same context images, ranked on an IN_CONTEXT benchmark.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Services } from '../services';
import type { Log } from '../log';
import { domainContext } from '../domain/context';
import { storeArtifact } from '../domain/artifacts';
import { createDataset, registerModel } from '../domain/catalog';
import { createBenchmark } from '../domain/leaderboards';
import { submitEncodingIcl } from '../domain/in-context';
import { ICL_EVALUATION_SUBJECTS, ICL_REFERENCE_SEED, iclReferenceConfig } from '../compute/icl/reference-data';
import { generateSynthetic, roiSet } from '../compute/synthetic';
import { demoSubjects } from './demo-data';
import { existingRunKeys, logQueued, registerDemoSubject } from './demo-common';

export const DEMO_ICL_DATASET = 'synthetic-icl-population';
/** Held out from the reference encoder's meta-training. */
export const DEMO_ICL_SUBJECT = ICL_EVALUATION_SUBJECTS[0];
/** The population's 512-wide synthetic backbone (the encoder's E), named apart from the NSD-like demo's clip. */
export const DEMO_ICL_BACKBONE = 'population-clip';
export const DEMO_ICL_ENCODER = 'braincorl-reference';
export const DEMO_ICL_BENCHMARK = 'synthetic-icl-test-time-scaling';
export const DEMO_ICL_METRIC = 'in_context.explained_variance.mean@k100';
/** Context sizes of the demo's test-time-scaling curve (nested: each repeat's first k images). */
export const DEMO_ICL_KS = [10, 25, 50, 100];
export const DEMO_ICL_REPEATS = 2;
const ICL_RUN_KEY = `demo-icl-${DEMO_ICL_SUBJECT}`;
const REFERENCE_ONNX = path.join(__dirname, '../../models/braincorl/reference.onnx');

/**
 * The held-out subject: 300 training images of its own, then 100 test images. Its ROIs are 0.4
 * times the population's size (the priors a voxel's weights are drawn from are the same), which
 * keeps the run to about a minute on two cores.
 */
export function demoInContextData() {
  const config = iclReferenceConfig([DEMO_ICL_SUBJECT], { nTrainPerSubject: 300, nSharedTest: 100 });
  const data = generateSynthetic({ ...config, subjects: [{ id: DEMO_ICL_SUBJECT, rois: roiSet(0.4) }] });
  const [subject] = demoSubjects(data);
  return {
    description:
      `Synthetic subject ${DEMO_ICL_SUBJECT} of the population (seed ${ICL_REFERENCE_SEED}, src/compute/icl/reference-data.ts) the reference ` +
      'in-context encoder was meta-trained on; this subject was held out from that training. 3 repeats per image, features of the population\'s 512-wide backbone.',
    subject,
    width: data.features.clip.cols,
    testStimulusIds: Array.from(data.sharedTest, (i) => data.stimuli[i].id),
  };
}

/** Seeds the dataset, backbone, features, responses and the encoder once; false when already there. */
export async function seedInContextDemo(services: Services, log: Log): Promise<boolean> {
  const ctx = domainContext(services);
  const existing = await services.db.dataset.findUnique({ where: { labId_name: { labId: services.defaultLabId, name: DEMO_ICL_DATASET } } });
  if (existing) return false;
  if (!existsSync(REFERENCE_ONNX)) {
    // A checkout without the trained model (models/braincorl/train.py makes it) seeds the rest.
    log('warn', 'in-context demo not seeded: the reference encoder is missing', { path: REFERENCE_ONNX });
    return false;
  }
  const started = Date.now();
  const data = demoInContextData();
  const dataset = await createDataset(ctx, { name: DEMO_ICL_DATASET, description: data.description, visibility: 'PUBLIC' });
  const backbone = await registerModel(ctx, {
    name: DEMO_ICL_BACKBONE,
    kind: 'BACKBONE',
    family: 'clip',
    featureWidth: data.width,
    description: 'The 512-wide synthetic backbone of the in-context population (a fixed projection of the latent factors plus noise)',
    visibility: 'PUBLIC',
  });
  data.subject.features = new Map([[DEMO_ICL_BACKBONE, data.subject.features.get('clip')!]]);
  await registerDemoSubject(ctx, { datasetId: dataset.id, subject: data.subject, models: new Map([[DEMO_ICL_BACKBONE, backbone.id]]), keyPrefix: 'seed-icl', stimulusSetName: `${DEMO_ICL_SUBJECT}-images` });
  const onnx = await storeArtifact(services, readFileSync(REFERENCE_ONNX), { filename: 'reference.onnx', labId: services.defaultLabId });
  await registerModel(ctx, {
    name: DEMO_ICL_ENCODER,
    kind: 'IN_CONTEXT_ENCODER',
    family: 'braincorl',
    description: 'A small BraInCoRL-architecture in-context encoder meta-trained on the synthetic population (models/braincorl)',
    artifactId: onnx.id,
    backboneId: backbone.id,
    featureWidth: data.width,
    visibility: 'PUBLIC',
  });
  log('info', 'in-context demo seeded', { dataset: DEMO_ICL_DATASET, subject: DEMO_ICL_SUBJECT, encoder: DEMO_ICL_ENCODER, ms: Date.now() - started });
  return true;
}

/**
 * Once the subject's features and responses are READY, queues the ENCODING_ICL run (in-context vs
 * ridge on the same nested contexts) on the IN_CONTEXT benchmark. Done (true) when queued, already
 * queued, or when the demo data is missing or failed.
 */
export async function queueInContextDemo(services: Services, log: Log): Promise<boolean> {
  const responseSet = await services.db.responseSet.findFirst({
    where: { subject: { name: DEMO_ICL_SUBJECT, dataset: { labId: services.defaultLabId, name: DEMO_ICL_DATASET } } },
    include: { subject: true },
  });
  if (!responseSet) return true;
  const features = await services.db.featureSet.findFirst({ where: { model: { labId: services.defaultLabId, name: DEMO_ICL_BACKBONE }, stimulusSetId: responseSet.stimulusSetId } });
  const encoder = await services.db.model.findUnique({ where: { labId_name: { labId: services.defaultLabId, name: DEMO_ICL_ENCODER } } });
  if (!features || !encoder || responseSet.status === 'FAILED' || features.status === 'FAILED') return true;
  if (responseSet.status !== 'READY' || features.status !== 'READY') return false;
  const present = await existingRunKeys(services, [ICL_RUN_KEY]);
  const what = 'demo in-context run';
  const fields = { subject: DEMO_ICL_SUBJECT, encoder: DEMO_ICL_ENCODER };
  if (present.has(ICL_RUN_KEY)) {
    logQueued(log, what, [], [ICL_RUN_KEY], fields);
    return true;
  }
  const ctx = domainContext(services);
  const benchmark =
    (await services.db.benchmark.findUnique({ where: { name: DEMO_ICL_BENCHMARK } })) ??
    (await createBenchmark(ctx, {
      name: DEMO_ICL_BENCHMARK,
      kind: 'IN_CONTEXT',
      metric: DEMO_ICL_METRIC,
      description: `In-context encoders on ${DEMO_ICL_SUBJECT}, a subject held out from meta-training: explained variance on 100 held-out images from 100 context images`,
      datasetId: responseSet.subject.datasetId,
    }));
  await submitEncodingIcl(ctx, {
    featureSetId: features.id,
    responseSetId: responseSet.id,
    modelId: encoder.id,
    ks: DEMO_ICL_KS,
    repeats: DEMO_ICL_REPEATS,
    seed: 0,
    testStimulusIds: demoInContextData().testStimulusIds,
    compareRidge: true,
    benchmarkId: benchmark.id,
    idempotencyKey: ICL_RUN_KEY,
  });
  logQueued(log, what, [ICL_RUN_KEY], [], { ...fields, ks: DEMO_ICL_KS });
  return true;
}
