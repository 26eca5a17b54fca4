// The demo catalog's content: a small synthetic NSD-like dataset (src/compute/synthetic.ts), laid
// out as a lab would register it: per subject, one stimulus set of its training images followed
// by the images every subject saw, features of two backbones, responses with 3 repeats.
import { defaultSyntheticConfig, generateSynthetic, roiSet } from '../compute/synthetic';

export const DEMO_DATASET = 'synthetic-nsd';

export interface DemoSubject {
  name: string;
  nVoxels: number;
  rois: { name: string; voxelIndices: number[] }[];
  stimulusDescription: string;
  stimuli: { externalId: string; concepts: string[]; caption: string }[];
  /** Backbone name -> features [n_stimuli, width] in stimulus order. */
  features: Map<string, { width: number; values: Float32Array }>;
  nRepeats: number;
  /** [n_repeats, n_stimuli, n_voxels] in stimulus order. */
  responses: Float32Array;
}

export function demoData(options: { nTrain?: number; nShared?: number; roiScale?: number } = {}) {
  const config = defaultSyntheticConfig({
    seed: 2024,
    nTrainPerSubject: options.nTrain ?? 600,
    nSharedTest: options.nShared ?? 150,
    subjects: [
      { id: 'subj01', rois: roiSet(options.roiScale ?? 0.25) },
      { id: 'subj02', rois: roiSet((options.roiScale ?? 0.25) * 0.8) },
      { id: 'subj05', rois: roiSet((options.roiScale ?? 0.25) * 1.3) },
    ],
  });
  const data = generateSynthetic(config);
  const subjects: DemoSubject[] = data.subjects.map((s) => {
    const order = [...s.trainStimuli, ...s.testStimuli];
    const features = new Map<string, { width: number; values: Float32Array }>();
    for (const [name, m] of Object.entries(data.features)) {
      const values = new Float32Array(order.length * m.cols);
      order.forEach((stim, row) => values.set(m.data.subarray(stim * m.cols, (stim + 1) * m.cols), row * m.cols));
      features.set(name, { width: m.cols, values });
    }
    const R = s.train.nReps;
    const V = s.nVoxels;
    const nTrain = s.train.nStimuli;
    const nTest = s.test.nStimuli;
    const responses = new Float32Array(R * order.length * V);
    for (let r = 0; r < R; r++) {
      const base = r * order.length * V;
      responses.set(s.train.data.subarray(r * nTrain * V, (r + 1) * nTrain * V), base);
      responses.set(s.test.data.subarray(r * nTest * V, (r + 1) * nTest * V), base + nTrain * V);
    }
    return {
      name: s.id,
      nVoxels: V,
      rois: s.rois.map((roi) => ({ name: roi.name, voxelIndices: Array.from(roi.voxels) })),
      stimulusDescription: `${nTrain} images seen by ${s.id} only, then the ${nTest} images every subject saw`,
      stimuli: order.map((i) => ({ externalId: data.stimuli[i].id, concepts: [data.stimuli[i].concept], caption: data.stimuli[i].caption })),
      features,
      nRepeats: R,
      responses,
    };
  });
  return {
    description:
      'Synthetic NSD-like data (deterministic, seed 2024): three subjects with different voxel counts and named ROIs, ' +
      'two backbones (512- and 768-wide features), 3 repeats per image with known per-voxel SNR, and a test set shared by all subjects.',
    backbones: config.backbones.map((b) => ({ name: b.name, family: b.name, width: b.width })),
    subjects,
  };
}
