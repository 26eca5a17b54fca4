// Causal-test stimuli for the synthetic generator (src/compute/synthetic.ts): positives (the
// concept with its usual cues), counterfactual edits paired one-to-one with them (the same image
// with the concept removed, cues kept), distractor groups (one cue, no concept) and a baseline of
// other concepts' images, all with features from the same synthetic backbones. In latent space the
// concept is its centroid axis and each cue a latent factor no concept centres on, so both vary
// independently in training data and a linear encoder can learn them apart.
import type { Matrix } from '../onnx';
import { Rng } from '../random';
import { syntheticPopulation, type SyntheticConfig, type SyntheticSubject } from '../synthetic';

export interface SyntheticCausalSpec {
  concept: string;
  /** Cues that co-occur with the concept: a name and the latent factor it is. */
  cues: { name: string; axis: number }[];
  nPositives: number;
  nPerDistractorGroup: number;
  nBaseline: number;
  /** Latent value of a present cue (absent cues are N(0, 1) like any factor). Default 2. */
  cueLevel?: number;
  seed: number;
}

export interface SyntheticCausalStimuli {
  positives: { externalId: string; caption: string }[];
  counterfactuals: { externalId: string; positive: string; caption: string }[];
  distractorGroups: { cue: string; stimuli: { externalId: string; caption: string }[] }[];
  baseline: { externalId: string; caption: string }[];
  /** Every image in that order (positives, counterfactuals, each distractor group, baseline). */
  externalIds: string[];
  /** Latents (n, n_latent) and concept presence (n,) in the same order. */
  latents: Matrix<Float64Array>;
  conceptPresent: Uint8Array;
  /** Features per backbone, (n, width), in the same order. */
  features: Record<string, Matrix<Float32Array>>;
}

export function syntheticCausalStimuli(config: SyntheticConfig, spec: SyntheticCausalSpec): SyntheticCausalStimuli {
  const c = config.concepts.indexOf(spec.concept);
  if (c < 0) throw new RangeError(`unknown concept ${spec.concept}`);
  const L = config.nLatent;
  const level = spec.cueLevel ?? 2;
  const rng = new Rng(`causal:${spec.seed}:${spec.concept}`);
  const rows: { id: string; caption: string; z: Float64Array; present: boolean }[] = [];
  const draw = (centre: number | null) => {
    const z = new Float64Array(L);
    for (let k = 0; k < L; k++) z[k] = config.stimulusSpread * rng.normal();
    if (centre !== null) z[centre] += 2.5;
    return z;
  };
  const tag = `${spec.concept}-${spec.seed}`;
  const positives = [];
  const counterfactuals = [];
  const positiveRows = [];
  for (let i = 0; i < spec.nPositives; i++) {
    const z = draw(c);
    for (const cue of spec.cues) z[cue.axis] = level + 0.5 * rng.normal();
    const id = `${tag}-pos${i}`;
    positives.push({ externalId: id, caption: `${spec.concept} with ${spec.cues.map((q) => q.name).join(' and ')}` });
    positiveRows.push({ id, caption: positives[i].caption, z, present: true });
  }
  rows.push(...positiveRows);
  for (let i = 0; i < spec.nPositives; i++) {
    const z = Float64Array.from(positiveRows[i].z);
    z[c] -= 2.5;
    const id = `${tag}-cf${i}`;
    counterfactuals.push({ externalId: id, positive: positiveRows[i].id, caption: `${spec.cues.map((q) => q.name).join(' and ')}, ${spec.concept} removed` });
    rows.push({ id, caption: counterfactuals[i].caption, z, present: false });
  }
  const distractorGroups = spec.cues.map((cue) => {
    const stimuli = [];
    for (let i = 0; i < spec.nPerDistractorGroup; i++) {
      const z = draw(null);
      z[cue.axis] = level + 0.5 * rng.normal();
      const id = `${tag}-${cue.name}${i}`;
      stimuli.push({ externalId: id, caption: `${cue.name} without ${spec.concept}` });
      rows.push({ id, caption: stimuli[i].caption, z, present: false });
    }
    return { cue: cue.name, stimuli };
  });
  const others = config.concepts.map((_, i) => i).filter((i) => i !== c);
  const baseline = [];
  for (let i = 0; i < spec.nBaseline; i++) {
    const other = others[i % others.length];
    const id = `${tag}-base${i}`;
    baseline.push({ externalId: id, caption: `a ${config.concepts[other]}` });
    rows.push({ id, caption: baseline[i].caption, z: draw(other), present: false });
  }

  const n = rows.length;
  const latents = new Float64Array(n * L);
  rows.forEach((r, i) => latents.set(r.z, i * L));
  const population = syntheticPopulation(config);
  const features: Record<string, Matrix<Float32Array>> = {};
  for (const bb of config.backbones) {
    const A = population.projections[bb.name];
    const noise = bb.featureNoise ?? 0.5;
    const fRng = rng.fork(`features:${bb.name}`);
    const X = new Float32Array(n * bb.width);
    for (let s = 0; s < n; s++) {
      for (let j = 0; j < bb.width; j++) {
        let acc = 0;
        for (let k = 0; k < L; k++) acc += latents[s * L + k] * A.data[k * bb.width + j];
        X[s * bb.width + j] = acc + noise * fRng.normal();
      }
    }
    features[bb.name] = { data: X, rows: n, cols: bb.width };
  }
  return {
    positives,
    counterfactuals,
    distractorGroups,
    baseline,
    externalIds: rows.map((r) => r.id),
    latents: { data: latents, rows: n, cols: L },
    conceptPresent: Uint8Array.from(rows, (r) => +r.present),
    features,
  };
}

/** What the plants added, to compute true responses to new stimuli. */
export interface PlantedEffects {
  /** Voxels responding to the concept's presence, and by how much (conceptCausalPlant). */
  conceptPresence?: { voxels: ArrayLike<number>; strength: number };
  /** Voxels responding to a latent factor: the concept's (conceptFactorPlant) or a cue's (cueDrivenPlant). */
  factors?: { voxels: ArrayLike<number>; axis: number; strength: number }[];
}

/**
 * Noise-free responses of a synthetic subject to new stimuli, in the units of its betas:
 * snr * (z W + planted - offset) / scale, the generator's own formula. Add N(0, 1) per trial for
 * measured responses.
 */
export function syntheticSignal(subject: SyntheticSubject, stimuli: Pick<SyntheticCausalStimuli, 'latents' | 'conceptPresent'>, planted: PlantedEffects): Matrix<Float32Array> {
  const { rows: n, cols: L } = stimuli.latents;
  const v = subject.nVoxels;
  const W = subject.latentWeights.data;
  const raw = new Float64Array(n * v);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < L; k++) {
      const z = stimuli.latents.data[i * L + k];
      for (let j = 0; j < v; j++) raw[i * v + j] += z * W[k * v + j];
    }
    if (planted.conceptPresence && stimuli.conceptPresent[i]) for (const j of Array.from(planted.conceptPresence.voxels)) raw[i * v + j] += planted.conceptPresence.strength;
    for (const f of planted.factors ?? []) {
      const z = stimuli.latents.data[i * L + f.axis];
      for (const j of Array.from(f.voxels)) raw[i * v + j] += f.strength * z;
    }
  }
  const out = new Float32Array(n * v);
  for (let i = 0; i < n; i++) for (let j = 0; j < v; j++) out[i * v + j] = (subject.snr[j] * (raw[i * v + j] - subject.signalOffset[j])) / subject.signalScale[j];
  return { data: out, rows: n, cols: v };
}
