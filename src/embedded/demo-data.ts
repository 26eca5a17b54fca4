// The demo catalog's content: a small synthetic NSD-like dataset (src/compute/synthetic.ts), laid
// out as a lab would register it: per subject, one stimulus set of its training images followed
// by the images every subject saw, features of two backbones, responses with 3 repeats.
import { generatePlantedLayers } from '../compute/sweep/planted-layers';
import { defaultSyntheticConfig, generateSynthetic, roiSet, type SyntheticDataset } from '../compute/synthetic';

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
  const subjects = demoSubjects(data);
  return {
    description:
      'Synthetic NSD-like data (deterministic, seed 2024): three subjects with different voxel counts and named ROIs, ' +
      'two backbones (512- and 768-wide features), 3 repeats per image with known per-voxel SNR, and a test set shared by all subjects.',
    backbones: config.backbones.map((b) => ({ name: b.name, family: b.name, width: b.width })),
    subjects,
  };
}

/** Per subject as a lab registers it: its training images then the shared ones, features in that order. */
export function demoSubjects(data: SyntheticDataset): DemoSubject[] {
  return data.subjects.map((s) => {
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
}

export const DEMO_LAYER_DATASET = 'synthetic-layers';
export const DEMO_LAYER_MODEL = 'synthetic-3-stage';

/**
 * The layer-sweep demo: one model with three layers (stage1..stage3) and two subjects whose V1,
 * V4 and FFA responses carry factors of stage1, stage2 and stage3 respectively (planted truth,
 * src/compute/sweep/planted-layers.ts), so a layer sweep must find V1 -> stage1, V4 -> stage2,
 * FFA -> stage3. PPA and EBA depend on the shared factors only and prefer no layer.
 */
export function demoLayerData(options: { nTrain?: number; nShared?: number; roiScale?: number; width?: number } = {}) {
  const scale = options.roiScale ?? 0.2;
  const config = defaultSyntheticConfig({
    seed: 2025,
    nTrainPerSubject: options.nTrain ?? 400,
    nSharedTest: options.nShared ?? 100,
    subjects: [
      { id: 'subj01', rois: roiSet(scale) },
      { id: 'subj02', rois: roiSet(scale * 0.8) },
    ],
  });
  const width = options.width ?? 48;
  const roiLayer = { V1: 'stage1', V4: 'stage2', FFA: 'stage3' };
  const data = generatePlantedLayers(config, {
    layers: ['stage1', 'stage2', 'stage3'].map((name) => ({ name, width })),
    roiLayer,
  });
  return {
    description:
      'Synthetic layer-sweep demo (deterministic, seed 2025): two subjects and one three-stage model; V1, V4 and FFA ' +
      'responses were generated from stage1, stage2 and stage3 features respectively, so a layer sweep should find those layers.',
    model: { name: DEMO_LAYER_MODEL, family: 'synthetic', width },
    layers: data.layerNames,
    roiLayer,
    /** features are keyed by layer name. */
    subjects: demoSubjects(data),
  };
}
