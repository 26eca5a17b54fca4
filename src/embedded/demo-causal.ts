// The causal demo: a synthetic subject with planted concept-causal voxels (V4 follows the "food"
// factor) and cue-driven voxels (PPA follows "table", EBA "plate", cues that come with food in the
// query's positives), a ridge encoder fit on its training images, a concept query (positives,
// their counterfactuals with food removed and the cues kept, one distractor group per cue, a
// baseline of other concepts) with the encoder's features, 30 of its pairs measured in the
// scanner, and a CAUSAL_TEST of the encoder, with the planted truth, ranked on a CAUSAL benchmark.
// The generator is src/compute/synthetic.ts with src/compute/causal/synthetic-stimuli.ts.
import type { Services } from '../services';
import type { Log } from '../log';
import { domainContext } from '../domain/context';
import { createDataset, createStimulusSet, registerModel } from '../domain/catalog';
import { createConceptQuery, submitCausalTest } from '../domain/causal';
import { submitEncodingRidge } from '../domain/encoding';
import { importFeatureSet, importResponseSet } from '../domain/imports';
import { createBenchmark } from '../domain/leaderboards';
import { syntheticCausalStimuli, syntheticSignal } from '../compute/causal/synthetic-stimuli';
import { conceptFactorPlant, cueDrivenPlant, defaultSyntheticConfig, generateSynthetic, roiSet, type SyntheticConfig } from '../compute/synthetic';
import { Rng } from '../compute/random';
import { demoSubjects } from './demo-data';
import { existingRunKeys, logQueued, registerDemoSubject, saveNpy } from './demo-common';

export const DEMO_CAUSAL_DATASET = 'synthetic-causal';
export const DEMO_CAUSAL_SUBJECT = 'subj01';
/** The dataset's 512-wide synthetic backbone, named apart from the NSD-like demo's clip. */
export const DEMO_CAUSAL_BACKBONE = 'causal-clip';
export const DEMO_CONCEPT = 'food';
export const DEMO_CONCEPT_QUERY = 'food-with-table-and-plate';
export const DEMO_CAUSAL_BENCHMARK = 'synthetic-causal-food';
export const DEMO_CAUSAL_METRIC = 'causal.recall';
export const CAUSAL_STRENGTH = 3;
export const CUE_STRENGTH = 3;
/** Cues that co-occur with food, each a latent factor no concept centres on. */
export const DEMO_CUES = [
  { name: 'table', axis: 10 },
  { name: 'plate', axis: 11 },
];
/** Pairs (positive, counterfactual) the subject also saw in the scanner. */
const MEASURED_PAIRS = 30;
const RIDGE_KEY = 'demo-causal-ridge-subj01';
const CAUSAL_KEY = 'demo-causal-test-food';

/** The planted dataset, the concept query's images and which voxels are truly causal or cue-driven. */
export function demoCausalData() {
  const config: SyntheticConfig = defaultSyntheticConfig({
    seed: 7,
    nTrainPerSubject: 600,
    nSharedTest: 100,
    subjects: [{ id: DEMO_CAUSAL_SUBJECT, rois: roiSet(0.25) }],
    plants: [
      conceptFactorPlant('V4', DEMO_CONCEPT, 0.5, CAUSAL_STRENGTH),
      cueDrivenPlant('PPA', DEMO_CUES[0].axis, 0.5, CUE_STRENGTH),
      cueDrivenPlant('EBA', DEMO_CUES[1].axis, 0.5, CUE_STRENGTH),
    ],
  });
  const data = generateSynthetic(config);
  const truth = data.subjects[0];
  const [subject] = demoSubjects(data);
  subject.features = new Map([[DEMO_CAUSAL_BACKBONE, subject.features.get('clip')!]]);
  const stimuli = syntheticCausalStimuli(config, { concept: DEMO_CONCEPT, cues: DEMO_CUES, nPositives: 60, nPerDistractorGroup: 40, nBaseline: 60, seed: 1 });
  const causalVoxels = Array.from(truth.planted[`conceptFactor:V4`] as Int32Array);
  const cueVoxels = [...(truth.planted['cueDriven:PPA'] as Int32Array), ...(truth.planted['cueDriven:EBA'] as Int32Array)];
  const planted = {
    factors: [
      { voxels: causalVoxels, axis: config.concepts.indexOf(DEMO_CONCEPT), strength: CAUSAL_STRENGTH },
      { voxels: truth.planted['cueDriven:PPA'] as Int32Array, axis: DEMO_CUES[0].axis, strength: CUE_STRENGTH },
      { voxels: truth.planted['cueDriven:EBA'] as Int32Array, axis: DEMO_CUES[1].axis, strength: CUE_STRENGTH },
    ],
  };
  // The first MEASURED_PAIRS positives and their counterfactuals, 3 repeats, N(0, 1) noise per trial.
  const rows = [...Array.from({ length: MEASURED_PAIRS }, (_, i) => i), ...Array.from({ length: MEASURED_PAIRS }, (_, i) => stimuli.positives.length + i)];
  const L = config.nLatent;
  const signal = syntheticSignal(
    truth,
    {
      latents: { data: Float64Array.from(rows.flatMap((r) => Array.from(stimuli.latents.data.subarray(r * L, (r + 1) * L)))), rows: rows.length, cols: L },
      conceptPresent: Uint8Array.from(rows, (r) => stimuli.conceptPresent[r]),
    },
    planted,
  );
  const R = truth.train.nReps;
  const rng = new Rng(3);
  const measured = new Float32Array(R * signal.data.length);
  for (let r = 0; r < R; r++) for (let i = 0; i < signal.data.length; i++) measured[r * signal.data.length + i] = signal.data[i] + rng.normal();
  return {
    description:
      'Synthetic subject with planted truth (deterministic, seed 7): half of V4 responds to the food factor (concept-causal), half of PPA to a ' +
      '"table" cue and half of EBA to a "plate" cue (cue-driven: they respond to food images only because the cues come with them).',
    subject,
    testStimulusIds: Array.from(truth.testStimuli, (i) => data.stimuli[i].id),
    stimuli,
    causalVoxels,
    cueVoxels,
    measured: { externalIds: rows.map((r) => stimuli.externalIds[r]), nRepeats: R, values: measured },
  };
}

export async function seedCausalDemo(services: Services, log: Log): Promise<boolean> {
  const ctx = domainContext(services);
  const existing = await services.db.dataset.findUnique({ where: { labId_name: { labId: services.defaultLabId, name: DEMO_CAUSAL_DATASET } } });
  if (existing) return false;
  const started = Date.now();
  const data = demoCausalData();
  const dataset = await createDataset(ctx, { name: DEMO_CAUSAL_DATASET, description: data.description, visibility: 'PUBLIC' });
  const clip = data.subject.features.get(DEMO_CAUSAL_BACKBONE)!;
  const backbone = await registerModel(ctx, {
    name: DEMO_CAUSAL_BACKBONE,
    kind: 'BACKBONE',
    family: 'clip',
    featureWidth: clip.width,
    description: 'The 512-wide synthetic backbone of the causal demo (a fixed projection of the latent factors plus noise)',
    visibility: 'PUBLIC',
  });
  const { subjectId } = await registerDemoSubject(ctx, {
    datasetId: dataset.id,
    subject: data.subject,
    models: new Map([[DEMO_CAUSAL_BACKBONE, backbone.id]]),
    keyPrefix: 'seed-causal',
    stimulusSetName: `${DEMO_CAUSAL_SUBJECT}-training-and-test-images`,
  });
  const st = data.stimuli;
  const query = await createConceptQuery(ctx, {
    datasetId: dataset.id,
    name: DEMO_CONCEPT_QUERY,
    concept: DEMO_CONCEPT,
    description: 'Food images with a table and a plate, the same images with the food removed, tables alone, plates alone, and images of other concepts',
    positives: st.positives,
    counterfactuals: st.counterfactuals,
    distractorGroups: st.distractorGroups,
    baseline: st.baseline,
  });
  const f = st.features.clip;
  const features = await saveNpy(services, `${DEMO_CONCEPT_QUERY}-${DEMO_CAUSAL_BACKBONE}.npy`, [f.rows, f.cols], f.data);
  await importFeatureSet(ctx, { modelId: backbone.id, stimulusSetId: query.stimulusSetId, artifactId: features.id, idempotencyKey: 'seed-causal-query-features' });
  const scanned = await createStimulusSet(ctx, {
    datasetId: dataset.id,
    name: `${DEMO_CONCEPT_QUERY}-scanned`,
    description: `${MEASURED_PAIRS} of the query's pairs as ${DEMO_CAUSAL_SUBJECT} saw them in the scanner (positives, then their counterfactuals)`,
    stimuli: data.measured.externalIds.map((externalId) => ({ externalId })),
  });
  const betas = await saveNpy(services, `${DEMO_CONCEPT_QUERY}-betas.npy`, [data.measured.nRepeats, data.measured.externalIds.length, data.subject.nVoxels], data.measured.values);
  await importResponseSet(ctx, { subjectId, stimulusSetId: scanned.id, artifactId: betas.id, idempotencyKey: 'seed-causal-scanned-betas' });
  log('info', 'causal demo seeded', { dataset: DEMO_CAUSAL_DATASET, conceptQuery: DEMO_CONCEPT_QUERY, ms: Date.now() - started });
  return true;
}

/**
 * Two steps, each once its inputs are READY: the ridge encoder on the subject's training images,
 * then (when it SUCCEEDED) the causal test of the concept query with the planted truth. Done
 * (true) when both are queued or the demo data is missing or failed.
 */
export async function queueCausalDemo(services: Services, log: Log): Promise<boolean> {
  const lab = services.defaultLabId;
  const dataset = await services.db.dataset.findUnique({ where: { labId_name: { labId: lab, name: DEMO_CAUSAL_DATASET } } });
  const query = dataset && (await services.db.conceptQuery.findFirst({ where: { datasetId: dataset.id, name: DEMO_CONCEPT_QUERY } }));
  if (!dataset || !query) return true;
  const present = await existingRunKeys(services, [RIDGE_KEY, CAUSAL_KEY]);
  const what = 'demo causal test';
  if (present.has(CAUSAL_KEY)) {
    logQueued(log, what, [], [...present], { concept: DEMO_CONCEPT });
    return true;
  }
  const imports = await services.db.run.findMany({ where: { labId: lab, idempotencyKey: { startsWith: 'seed-causal-' } } });
  if (imports.some((r) => r.status === 'FAILED' || r.status === 'CANCELLED')) return true;
  if (imports.length < 4 || imports.some((r) => r.status !== 'SUCCEEDED')) return false;
  const ctx = domainContext(services);
  let encoder = await services.db.run.findFirst({ where: { labId: lab, idempotencyKey: RIDGE_KEY } });
  if (!encoder) {
    const responseSet = await services.db.responseSet.findFirstOrThrow({ where: { subject: { datasetId: dataset.id, name: DEMO_CAUSAL_SUBJECT }, stimulusSet: { name: `${DEMO_CAUSAL_SUBJECT}-training-and-test-images` } } });
    const featureSet = await services.db.featureSet.findFirstOrThrow({ where: { model: { labId: lab, name: DEMO_CAUSAL_BACKBONE }, stimulusSetId: responseSet.stimulusSetId } });
    encoder = await submitEncodingRidge(ctx, {
      featureSetId: featureSet.id,
      responseSetId: responseSet.id,
      testStimulusIds: demoCausalData().testStimulusIds,
      bootstrapSamples: 0,
      idempotencyKey: RIDGE_KEY,
    });
    logQueued(log, 'demo causal encoder (ridge)', [RIDGE_KEY], [], { subject: DEMO_CAUSAL_SUBJECT });
    return false;
  }
  if (encoder.status === 'FAILED' || encoder.status === 'CANCELLED') return true;
  if (encoder.status !== 'SUCCEEDED') return false;
  const benchmark =
    (await services.db.benchmark.findUnique({ where: { name: DEMO_CAUSAL_BENCHMARK } })) ??
    (await createBenchmark(ctx, {
      name: DEMO_CAUSAL_BENCHMARK,
      kind: 'CAUSAL',
      metric: DEMO_CAUSAL_METRIC,
      description: `Causal tests of the concept ${DEMO_CONCEPT} on the planted synthetic subject: the fraction of its truly food-causal voxels validated`,
      datasetId: dataset.id,
    }));
  const data = demoCausalData();
  await submitCausalTest(ctx, {
    conceptQueryId: query.id,
    encoderRunId: encoder.id,
    subjectId: encoder.subjectId,
    benchmarkId: benchmark.id,
    groundTruth: { causalVoxels: data.causalVoxels, nonCausalVoxels: data.cueVoxels },
    idempotencyKey: CAUSAL_KEY,
  });
  logQueued(log, what, [CAUSAL_KEY], present.has(RIDGE_KEY) ? [RIDGE_KEY] : [], { concept: DEMO_CONCEPT, encoderRunId: encoder.id });
  return true;
}
