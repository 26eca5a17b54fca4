// A synthetic subject with planted concept-causal voxels (V4, responding to the "food" factor)
// and cue-driven voxels (PPA: "table", EBA: "plate"), laid out for registration through the API,
// with a concept query for "food" whose true classes are known.
import { syntheticCausalStimuli, syntheticSignal, type SyntheticCausalStimuli } from '../../src/compute/causal/synthetic-stimuli';
import { conceptFactorPlant, cueDrivenPlant, defaultSyntheticConfig, generateSynthetic, roiSet, type SyntheticConfig } from '../../src/compute/synthetic';
import { Rng } from '../../src/compute/random';
import type { DemoSubject } from '../../src/embedded/demo-data';

export const CAUSAL_STRENGTH = 3;
export const CUE_STRENGTH = 3;
export const CUES = [
  { name: 'table', axis: 10 },
  { name: 'plate', axis: 11 },
];

export function causalSynthetic(options: { seed?: number; nTrain?: number; nShared?: number; roiScale?: number; nPositives?: number } = {}) {
  const config: SyntheticConfig = defaultSyntheticConfig({
    seed: options.seed ?? 7,
    nTrainPerSubject: options.nTrain ?? 600,
    nSharedTest: options.nShared ?? 100,
    subjects: [{ id: 'subj01', rois: roiSet(options.roiScale ?? 0.25) }],
    plants: [conceptFactorPlant('V4', 'food', 0.5, CAUSAL_STRENGTH), cueDrivenPlant('PPA', CUES[0].axis, 0.5, CUE_STRENGTH), cueDrivenPlant('EBA', CUES[1].axis, 0.5, CUE_STRENGTH)],
  });
  const data = generateSynthetic(config);
  const s = data.subjects[0];
  const order = [...s.trainStimuli, ...s.testStimuli];
  const clip = data.features.clip;
  const values = new Float32Array(order.length * clip.cols);
  order.forEach((stim, row) => values.set(clip.data.subarray(stim * clip.cols, (stim + 1) * clip.cols), row * clip.cols));
  const V = s.nVoxels;
  const R = s.train.nReps;
  const responses = new Float32Array(R * order.length * V);
  for (let r = 0; r < R; r++) {
    responses.set(s.train.data.subarray(r * s.train.nStimuli * V, (r + 1) * s.train.nStimuli * V), r * order.length * V);
    responses.set(s.test.data.subarray(r * s.test.nStimuli * V, (r + 1) * s.test.nStimuli * V), r * order.length * V + s.train.nStimuli * V);
  }
  const subject: DemoSubject = {
    name: s.id,
    nVoxels: V,
    rois: s.rois.map((roi) => ({ name: roi.name, voxelIndices: Array.from(roi.voxels) })),
    stimulusDescription: 'training then shared images',
    stimuli: order.map((i) => ({ externalId: data.stimuli[i].id, concepts: [data.stimuli[i].concept], caption: data.stimuli[i].caption })),
    features: new Map([['clip', { width: clip.cols, values }]]),
    nRepeats: R,
    responses,
  };
  const nPositives = options.nPositives ?? 60;
  const stimuli = syntheticCausalStimuli(config, { concept: 'food', cues: CUES, nPositives, nPerDistractorGroup: 40, nBaseline: 60, seed: 1 });
  const causalVoxels = Array.from(s.planted['conceptFactor:V4'] as Int32Array);
  const cueVoxels = [...(s.planted['cueDriven:PPA'] as Int32Array), ...(s.planted['cueDriven:EBA'] as Int32Array)];
  const planted = {
    factors: [
      { voxels: causalVoxels, axis: config.concepts.indexOf('food'), strength: CAUSAL_STRENGTH },
      { voxels: s.planted['cueDriven:PPA'] as Int32Array, axis: CUES[0].axis, strength: CUE_STRENGTH },
      { voxels: s.planted['cueDriven:EBA'] as Int32Array, axis: CUES[1].axis, strength: CUE_STRENGTH },
    ],
  };
  return {
    config,
    data,
    truth: s,
    backbones: [{ name: 'clip', width: clip.cols }],
    subject,
    sharedTestIds: Array.from(s.testStimuli, (i) => data.stimuli[i].id),
    stimuli,
    causalVoxels,
    cueVoxels,
    /** Measured responses [nReps, rows.length, V] of the subject to some concept stimuli (noise N(0, 1) per trial). */
    measure(rows: number[], seed = 3): Float32Array {
      const picked: Pick<SyntheticCausalStimuli, 'latents' | 'conceptPresent'> = {
        latents: { data: Float64Array.from(rows.flatMap((r) => Array.from(stimuli.latents.data.subarray(r * config.nLatent, (r + 1) * config.nLatent)))), rows: rows.length, cols: config.nLatent },
        conceptPresent: Uint8Array.from(rows, (r) => stimuli.conceptPresent[r]),
      };
      const signal = syntheticSignal(s, picked, planted);
      const rng = new Rng(seed);
      const out = new Float32Array(R * signal.data.length);
      for (let r = 0; r < R; r++) for (let i = 0; i < signal.data.length; i++) out[r * signal.data.length + i] = signal.data[i] + rng.normal();
      return out;
    },
  };
}
