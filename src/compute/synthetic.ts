// Synthetic NSD-like data, deterministic from a seed: stimuli with concept labels and captions,
// features from several "backbones" derived from shared latent stimulus factors, subjects with
// named ROIs and different voxel counts, voxel weights drawn from a prior shared across subjects
// (low rank, category-selective ROIs) plus subject-specific parts, and repeated responses with a
// known per-voxel SNR, so the true noise ceiling is known in closed form.
//
// Generative model, per subject and voxel v:
//   latent z_s        = centroid[concept(s)] + N(0, I) * stimulusSpread          (n_latent)
//   feature_b(s)      = z_s A_b + N(0, featureNoise_b^2)                          (width_b)
//   signal(s, v)      = standardise_v( z_s w_v + sum of planted contributions )    (unit variance
//                       over the subject's stimuli)
//   beta(rep, s, v)   = snr_v * signal(s, v) + N(0, 1)
// so the noise-ceiling SNR of voxel v is snr_v and NC% = 100 snr^2 / (snr^2 + 1/n_averaged).
// Plants (concept-causal voxels, cue-driven voxels, ...) are `SignalPlant`s: functions that add a
// (n_stimuli, n_voxels) contribution before standardisation, and may record what they planted.
import { check } from './errors';
import type { Matrix } from './onnx/kernels';
import { Rng } from './random';
import type { RepeatedResponses } from './stats';

export interface SyntheticRoiSpec {
  name: string;
  nVoxels: number;
  /** Concept this ROI prefers (category-selective ROIs: FFA -> face ...); none for early visual. */
  preferredConcept?: string;
}

export interface SyntheticSubjectSpec {
  id: string;
  rois: SyntheticRoiSpec[];
}

export interface SyntheticBackboneSpec {
  name: string;
  width: number;
  /** SD of feature noise added on top of the latent projection (default 0.5). */
  featureNoise?: number;
}

export interface SyntheticConfig {
  seed: number;
  concepts: string[];
  backbones: SyntheticBackboneSpec[];
  subjects: SyntheticSubjectSpec[];
  nLatent: number;
  /** Stimuli seen by every subject (the shared test set). */
  nSharedTest: number;
  /** Subject-specific training stimuli (disjoint across subjects). */
  nTrainPerSubject: number;
  nReps: number;
  /** Per-voxel SNR drawn uniformly in this range. */
  snrRange: [number, number];
  /** Rank of the shared weight prior per ROI. */
  priorRank: number;
  /** Weight of the subject-specific part relative to the shared prior (0: identical subjects). */
  subjectSpecificScale: number;
  /** Strength of the preferred-concept direction in category-selective ROIs. */
  categorySelectivity: number;
  stimulusSpread: number;
  plants: SignalPlant[];
}

export interface SyntheticStimulus {
  id: string;
  concept: string;
  caption: string;
}

export interface SyntheticSubject {
  id: string;
  nVoxels: number;
  rois: { name: string; voxels: Int32Array }[];
  /** ROI name per voxel, (n_voxels,). */
  voxelRoi: string[];
  /** Training stimuli (indices into dataset.stimuli), subject-specific. */
  trainStimuli: Int32Array;
  /** Shared test stimuli (indices into dataset.stimuli). */
  testStimuli: Int32Array;
  /** Planted latent-space weights before standardisation, (n_latent, n_voxels). */
  latentWeights: Matrix<Float64Array>;
  /** Per-voxel affine map from raw latent signal to unit signal: signal = (raw - offset) / scale. */
  signalOffset: Float64Array;
  signalScale: Float64Array;
  /** Per-voxel SNR (signal SD over noise SD), (n_voxels,). */
  snr: Float64Array;
  /** Repeated responses (n_reps, n_train, n_voxels) and (n_reps, n_test, n_voxels). */
  train: RepeatedResponses;
  test: RepeatedResponses;
  /** Noise-free responses snr * signal for train and test stimuli, (n, n_voxels). */
  trainSignal: Matrix<Float32Array>;
  testSignal: Matrix<Float32Array>;
  /** What plants recorded (e.g. which voxels are concept-causal). */
  planted: Record<string, unknown>;
}

export interface SyntheticDataset {
  config: SyntheticConfig;
  stimuli: SyntheticStimulus[];
  /** Latent factors, (n_stimuli, n_latent). */
  latents: Matrix<Float64Array>;
  /** One-hot concept indicators, (n_stimuli, n_concepts). */
  conceptIndicators: Matrix<Float64Array>;
  /** Features per backbone name, (n_stimuli, width). */
  features: Record<string, Matrix<Float32Array>>;
  sharedTest: Int32Array;
  subjects: SyntheticSubject[];
}

/** What a plant sees: one subject's stimuli and ROIs, a seeded generator, and a place to record. */
export interface PlantContext {
  subject: Pick<SyntheticSubject, 'id' | 'nVoxels' | 'rois' | 'voxelRoi'>;
  /** Stimuli of this subject, train then test, as indices into `dataset.stimuli`. */
  stimulusIndices: Int32Array;
  stimuli: SyntheticStimulus[];
  latents: Matrix<Float64Array>;
  conceptIndicators: Matrix<Float64Array>;
  concepts: string[];
  rng: Rng;
  record: (key: string, value: unknown) => void;
}

/**
 * Adds to the raw signal, (stimulusIndices.length, n_voxels) row-major, before each voxel's signal
 * is standardised. Use it to plant concept-causal voxels, cue-driven voxels, and so on.
 */
export type SignalPlant = (ctx: PlantContext, rawSignal: Float64Array) => void;

const CAPTION_NOUNS: Record<string, string[]> = {
  face: ['face', 'portrait', 'smiling person', 'child'],
  place: ['kitchen', 'street', 'beach', 'forest path'],
  body: ['runner', 'dancer', 'hand', 'skateboarder'],
  food: ['pizza', 'bowl of fruit', 'sandwich', 'cake'],
  word: ['street sign', 'book page', 'billboard', 'menu'],
  animal: ['dog', 'giraffe', 'cat', 'horse'],
  vehicle: ['bus', 'bicycle', 'train', 'car'],
  tool: ['hammer', 'laptop', 'scissors', 'phone'],
};
const CAPTION_ADJECTIVES = ['small', 'large', 'colourful', 'dim', 'bright', 'old', 'new', 'distant'];

export function defaultSyntheticConfig(overrides: Partial<SyntheticConfig> = {}): SyntheticConfig {
  return {
    seed: 0,
    concepts: ['face', 'place', 'body', 'food', 'word', 'animal', 'vehicle', 'tool'],
    backbones: [
      { name: 'clip', width: 512 },
      { name: 'dino', width: 768 },
    ],
    subjects: [
      { id: 'subj01', rois: roiSet(1.0) },
      { id: 'subj02', rois: roiSet(0.8) },
      { id: 'subj05', rois: roiSet(1.3) },
    ],
    nLatent: 24,
    nSharedTest: 1000,
    nTrainPerSubject: 9000,
    nReps: 3,
    snrRange: [0.1, 1.5],
    priorRank: 3,
    subjectSpecificScale: 0.3,
    categorySelectivity: 2,
    stimulusSpread: 1,
    plants: [],
    ...overrides,
  };
}

/** Early visual and category-selective ROIs, sizes scaled by `scale` (subjects differ in size). */
export function roiSet(scale: number, base = 400): SyntheticRoiSpec[] {
  const size = (k: number) => Math.max(1, Math.round(base * k * scale));
  return [
    { name: 'V1', nVoxels: size(1) },
    { name: 'V4', nVoxels: size(0.6) },
    { name: 'FFA', nVoxels: size(0.3), preferredConcept: 'face' },
    { name: 'PPA', nVoxels: size(0.35), preferredConcept: 'place' },
    { name: 'EBA', nVoxels: size(0.3), preferredConcept: 'body' },
  ];
}

/** Closed-form noise ceiling (percent) of a voxel with the given SNR, for `nAveraged` trials. */
export function trueNoiseCeilingPercent(snr: number, nAveraged: number): number {
  return (100 * snr * snr) / (snr * snr + 1 / nAveraged);
}

export function generateSynthetic(config: SyntheticConfig): SyntheticDataset {
  check(config.concepts.length >= 1 && config.nLatent >= config.concepts.length, 'INVALID_ARGUMENT', 'need n_latent >= number of concepts');
  const rng = new Rng(config.seed);
  const nc = config.concepts.length;
  const L = config.nLatent;
  const nStimuli = config.nSharedTest + config.subjects.length * config.nTrainPerSubject;

  // Concept centroids: one latent axis each (scaled), so concepts are separable in latent space.
  const centroid = new Float64Array(nc * L);
  for (let c = 0; c < nc; c++) centroid[c * L + c] = 2.5;

  const stimuli: SyntheticStimulus[] = [];
  const latents = new Float64Array(nStimuli * L);
  const indicators = new Float64Array(nStimuli * nc);
  const stimRng = rng.fork('stimuli');
  for (let s = 0; s < nStimuli; s++) {
    const c = stimRng.int(nc);
    const concept = config.concepts[c];
    const nouns = CAPTION_NOUNS[concept] ?? [concept];
    const caption = `a ${CAPTION_ADJECTIVES[stimRng.int(CAPTION_ADJECTIVES.length)]} ${nouns[stimRng.int(nouns.length)]}`;
    stimuli.push({ id: `stim${String(s).padStart(6, '0')}`, concept, caption });
    indicators[s * nc + c] = 1;
    for (let k = 0; k < L; k++) latents[s * L + k] = centroid[c * L + k] + config.stimulusSpread * stimRng.normal();
  }

  const features: Record<string, Matrix<Float32Array>> = {};
  for (const bb of config.backbones) {
    const bRng = rng.fork(`backbone:${bb.name}`);
    const A = bRng.fillNormal(new Float64Array(L * bb.width), 1 / Math.sqrt(L));
    const noise = bb.featureNoise ?? 0.5;
    const X = new Float32Array(nStimuli * bb.width);
    for (let s = 0; s < nStimuli; s++) {
      for (let j = 0; j < bb.width; j++) {
        let acc = 0;
        for (let k = 0; k < L; k++) acc += latents[s * L + k] * A[k * bb.width + j];
        X[s * bb.width + j] = acc + noise * bRng.normal();
      }
    }
    features[bb.name] = { data: X, rows: nStimuli, cols: bb.width };
  }

  // Shared prior: per ROI name, a low-rank basis in latent space (same for every subject).
  const priorRng = rng.fork('prior');
  const roiNames = [...new Set(config.subjects.flatMap((s) => s.rois.map((r) => r.name)))].sort();
  const priorBasis = new Map<string, Float64Array>();
  for (const name of roiNames) priorBasis.set(name, priorRng.fillNormal(new Float64Array(config.priorRank * L), 1 / Math.sqrt(L)));

  const sharedTest = Int32Array.from({ length: config.nSharedTest }, (_, i) => i);
  const latentsMatrix = { data: latents, rows: nStimuli, cols: L };
  const conceptIndicators = { data: indicators, rows: nStimuli, cols: nc };

  const subjects = config.subjects.map((spec, si) => {
    const sRng = rng.fork(`subject:${spec.id}`);
    const rois: { name: string; voxels: Int32Array }[] = [];
    const voxelRoi: string[] = [];
    for (const roi of spec.rois) {
      rois.push({ name: roi.name, voxels: Int32Array.from({ length: roi.nVoxels }, (_, i) => voxelRoi.length + i) });
      for (let i = 0; i < roi.nVoxels; i++) voxelRoi.push(roi.name);
    }
    const v = voxelRoi.length;
    const W = new Float64Array(L * v);
    let col = 0;
    for (const roi of spec.rois) {
      const basis = priorBasis.get(roi.name) as Float64Array;
      const pc = roi.preferredConcept ? config.concepts.indexOf(roi.preferredConcept) : -1;
      for (let i = 0; i < roi.nVoxels; i++, col++) {
        const mix = Array.from({ length: config.priorRank }, () => sRng.normal());
        for (let k = 0; k < L; k++) {
          let w = 0;
          for (let q = 0; q < config.priorRank; q++) w += mix[q] * basis[q * L + k];
          w += (config.subjectSpecificScale * sRng.normal()) / Math.sqrt(L);
          W[k * v + col] = w;
        }
        if (pc >= 0) W[pc * v + col] += (config.categorySelectivity * (0.5 + sRng.uniform())) / 2.5;
      }
    }
    const train = Int32Array.from({ length: config.nTrainPerSubject }, (_, i) => config.nSharedTest + si * config.nTrainPerSubject + i);
    const stimulusIndices = new Int32Array([...train, ...sharedTest]);
    const ns = stimulusIndices.length;
    const raw = new Float64Array(ns * v);
    for (let i = 0; i < ns; i++) {
      const s = stimulusIndices[i];
      for (let k = 0; k < L; k++) {
        const z = latents[s * L + k];
        if (z === 0) continue;
        const wRow = k * v;
        const out = i * v;
        for (let j = 0; j < v; j++) raw[out + j] += z * W[wRow + j];
      }
    }
    const planted: Record<string, unknown> = {};
    for (const plant of config.plants) {
      plant(
        {
          subject: { id: spec.id, nVoxels: v, rois, voxelRoi },
          stimulusIndices,
          stimuli,
          latents: latentsMatrix,
          conceptIndicators,
          concepts: config.concepts,
          rng: sRng.fork('plant'),
          record: (key, value) => {
            planted[key] = value;
          },
        },
        raw,
      );
    }
    // Standardise each voxel's signal over this subject's stimuli.
    const offset = new Float64Array(v);
    const scale = new Float64Array(v);
    for (let i = 0; i < ns; i++) for (let j = 0; j < v; j++) offset[j] += raw[i * v + j];
    for (let j = 0; j < v; j++) offset[j] /= ns;
    for (let i = 0; i < ns; i++) for (let j = 0; j < v; j++) scale[j] += (raw[i * v + j] - offset[j]) ** 2;
    for (let j = 0; j < v; j++) scale[j] = Math.sqrt(scale[j] / ns) || 1;
    const snr = Float64Array.from({ length: v }, () => config.snrRange[0] + (config.snrRange[1] - config.snrRange[0]) * sRng.uniform());
    const nt = train.length;
    const nTest = sharedTest.length;
    const trainSignal = new Float32Array(nt * v);
    const testSignal = new Float32Array(nTest * v);
    for (let i = 0; i < ns; i++) {
      for (let j = 0; j < v; j++) {
        const value = (snr[j] * (raw[i * v + j] - offset[j])) / scale[j];
        if (i < nt) trainSignal[i * v + j] = value;
        else testSignal[(i - nt) * v + j] = value;
      }
    }
    const noisy = (signal: Float32Array, n: number): RepeatedResponses => {
      const data = new Float32Array(config.nReps * n * v);
      for (let r = 0; r < config.nReps; r++) {
        for (let i = 0; i < n * v; i++) data[r * n * v + i] = signal[i] + sRng.normal();
      }
      return { data, nReps: config.nReps, nStimuli: n, nVoxels: v };
    };
    return {
      id: spec.id,
      nVoxels: v,
      rois,
      voxelRoi,
      trainStimuli: train,
      testStimuli: sharedTest,
      latentWeights: { data: W, rows: L, cols: v },
      signalOffset: offset,
      signalScale: scale,
      snr,
      train: noisy(trainSignal, nt),
      test: noisy(testSignal, nTest),
      trainSignal: { data: trainSignal, rows: nt, cols: v },
      testSignal: { data: testSignal, rows: nTest, cols: v },
      planted,
    };
  });

  return { config, stimuli, latents: latentsMatrix, conceptIndicators, features, sharedTest, subjects };
}

/** Rows `rows` of a (n, d) matrix, as a new (rows.length, d) matrix. */
export function takeRows<A extends Float32Array | Float64Array>(m: Matrix<A>, rows: ArrayLike<number>): Matrix<A> {
  const out = new (m.data.constructor as { new (n: number): A })(rows.length * m.cols);
  for (let i = 0; i < rows.length; i++) out.set(m.data.subarray(rows[i] * m.cols, (rows[i] + 1) * m.cols), i * m.cols);
  return { data: out, rows: rows.length, cols: m.cols };
}

/** Mean over repeats: (n_reps, n, v) -> (n, v). */
export function averageRepeats(r: RepeatedResponses): Matrix<Float32Array> {
  const size = r.nStimuli * r.nVoxels;
  const out = new Float32Array(size);
  for (let k = 0; k < r.nReps; k++) for (let i = 0; i < size; i++) out[i] += r.data[k * size + i];
  for (let i = 0; i < size; i++) out[i] /= r.nReps;
  return { data: out, rows: r.nStimuli, cols: r.nVoxels };
}

/** The concept's index and a random `fraction` of the ROI's voxels, for a plant to act on. */
function plantTargets(ctx: PlantContext, roi: string, concept: string, fraction: number): { c: number; chosen: number[] } {
  const c = ctx.concepts.indexOf(concept);
  check(c >= 0, 'INVALID_ARGUMENT', `unknown concept ${concept}`);
  const members = ctx.subject.rois.find((r) => r.name === roi)?.voxels ?? new Int32Array(0);
  return { c, chosen: Array.from(members).filter(() => ctx.rng.uniform() < fraction) };
}

/**
 * Example plant: makes `fraction` of an ROI's voxels respond to a concept's presence (indicator),
 * independent of the latent factors; records the voxel indices under `conceptCausal:<roi>`.
 */
export function conceptCausalPlant(roi: string, concept: string, fraction: number, strength: number): SignalPlant {
  return (ctx, raw) => {
    const { c, chosen } = plantTargets(ctx, roi, concept, fraction);
    const v = ctx.subject.nVoxels;
    const nc = ctx.concepts.length;
    ctx.stimulusIndices.forEach((s, i) => {
      const present = ctx.conceptIndicators.data[s * nc + c];
      if (present) for (const j of chosen) raw[i * v + j] += strength;
    });
    ctx.record(`conceptCausal:${roi}`, Int32Array.from(chosen));
  };
}

/** Parameters shared by every subject of a configuration: what an external sampler needs to draw new subjects. */
export interface SyntheticPopulation {
  /** Concept centroids in latent space, (n_concepts, n_latent). */
  centroids: Matrix<Float64Array>;
  /** Latent -> feature projection per backbone name, (n_latent, width). */
  projections: Record<string, Matrix<Float64Array>>;
  /** Low-rank weight prior per ROI name, (prior_rank, n_latent). */
  priorBases: Record<string, Matrix<Float64Array>>;
}

/**
 * Replays the seeded streams of `generateSynthetic` up to the subjects (the same forks in the same
 * order), so the population parameters come out identical without generating any stimuli.
 */
export function syntheticPopulation(config: SyntheticConfig): SyntheticPopulation {
  const rng = new Rng(config.seed);
  const nc = config.concepts.length;
  const L = config.nLatent;
  const centroids = new Float64Array(nc * L);
  for (let c = 0; c < nc; c++) centroids[c * L + c] = 2.5;
  rng.fork('stimuli');
  const projections: Record<string, Matrix<Float64Array>> = {};
  for (const bb of config.backbones) {
    const bRng = rng.fork(`backbone:${bb.name}`);
    projections[bb.name] = { data: bRng.fillNormal(new Float64Array(L * bb.width), 1 / Math.sqrt(L)), rows: L, cols: bb.width };
  }
  const priorRng = rng.fork('prior');
  const roiNames = [...new Set(config.subjects.flatMap((s) => s.rois.map((r) => r.name)))].sort();
  const priorBases: Record<string, Matrix<Float64Array>> = {};
  for (const name of roiNames) priorBases[name] = { data: priorRng.fillNormal(new Float64Array(config.priorRank * L), 1 / Math.sqrt(L)), rows: config.priorRank, cols: L };
  return { centroids: { data: centroids, rows: nc, cols: L }, projections, priorBases };
}

/**
 * Cue-driven voxels: `fraction` of an ROI's voxels respond to latent factor `cueAxis` (a cue that
 * co-occurs with a concept in causal-test stimuli, e.g. a table for food) and not to the concept.
 * Use an axis >= the number of concepts, so the cue varies independently of every concept in the
 * training stimuli and an encoder can tell the two apart. Records `cueDriven:<roi>`.
 */
export function cueDrivenPlant(roi: string, cueAxis: number, fraction: number, strength: number): SignalPlant {
  return (ctx, raw) => {
    check(cueAxis >= ctx.concepts.length && cueAxis < ctx.latents.cols, 'INVALID_ARGUMENT', `cue axis ${cueAxis} must be a latent factor no concept centres on`);
    const members = ctx.subject.rois.find((r) => r.name === roi)?.voxels ?? new Int32Array(0);
    const chosen = Array.from(members).filter(() => ctx.rng.uniform() < fraction);
    const v = ctx.subject.nVoxels;
    const L = ctx.latents.cols;
    ctx.stimulusIndices.forEach((s, i) => {
      const cue = ctx.latents.data[s * L + cueAxis];
      for (const j of chosen) raw[i * v + j] += strength * cue;
    });
    ctx.record(`cueDriven:${roi}`, Int32Array.from(chosen));
  };
}

/**
 * Concept-causal voxels that respond linearly to the concept's latent factor (its centroid axis),
 * which a linear encoder can learn in full; `conceptCausalPlant` responds to the concept label
 * instead. Records `conceptFactor:<roi>`.
 */
export function conceptFactorPlant(roi: string, concept: string, fraction: number, strength: number): SignalPlant {
  return (ctx, raw) => {
    const { c, chosen } = plantTargets(ctx, roi, concept, fraction);
    const v = ctx.subject.nVoxels;
    const L = ctx.latents.cols;
    ctx.stimulusIndices.forEach((s, i) => {
      const z = ctx.latents.data[s * L + c];
      for (const j of chosen) raw[i * v + j] += strength * z;
    });
    ctx.record(`conceptFactor:${roi}`, Int32Array.from(chosen));
  };
}
