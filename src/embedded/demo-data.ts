// The demo catalog's content: a small synthetic NSD-like dataset (src/compute/synthetic.ts), laid
// out as a lab would register it: per subject, one stimulus set of its training images followed
// by the images every subject saw, features of two backbones, responses with 3 repeats.
import { generatePlantedOnFeatures } from '../compute/sweep/planted-layers';
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
/** The demo's CNN backbone (models/backbones/tiny-cnn.onnx), run on the layer demo's images. */
export const DEMO_LAYER_MODEL = 'tiny-cnn';
/** The layers the layer demo extracts and sweeps, in depth order. */
export const DEMO_LAYERS = ['stage1', 'stage2', 'stage3'] as const;
/** Planted truth: the layer whose features drive each ROI. */
export const DEMO_ROI_LAYER: Record<string, string> = { V1: 'stage1', V4: 'stage2', FFA: 'stage3' };

export interface DemoLayerOptions {
  nTrain?: number;
  nShared?: number;
  roiScale?: number;
}

/** The layer demo's subjects and split; `demoLayerStimulusCount` images are needed in all. */
function demoLayerConfig(options: DemoLayerOptions = {}) {
  const scale = options.roiScale ?? 0.2;
  return defaultSyntheticConfig({
    seed: 2025,
    nTrainPerSubject: options.nTrain ?? 400,
    nSharedTest: options.nShared ?? 100,
    subjects: [
      { id: 'subj01', rois: roiSet(scale) },
      { id: 'subj02', rois: roiSet(scale * 0.8) },
    ],
  });
}

/** Images the layer demo needs: the shared test images, then each subject's own training images. */
export function demoLayerStimulusCount(options: DemoLayerOptions = {}): number {
  const c = demoLayerConfig(options);
  return c.nSharedTest + c.subjects.length * c.nTrainPerSubject;
}

/**
 * The layer-sweep demo: two subjects who saw the demo images (src/embedded/demo-images.ts), whose
 * V1, V4 and FFA responses carry the part of stage1, stage2 and stage3 of the demo CNN's pooled
 * features (what FEATURE_EXTRACTION gives on those images) that the other two stages do not
 * explain (planted truth, generatePlantedOnFeatures), so a layer sweep over the extracted
 * features must find V1 -> stage1, V4 -> stage2, FFA -> stage3. PPA and EBA carry only signal no
 * layer predicts. `layerFeatures` are the backbone's rows for image i = stimulus i (all of
 * `demoLayerStimulusCount` images); `images` gives each its id, concepts and caption.
 */
export function demoLayerData(
  layerFeatures: Record<string, { data: Float32Array; rows: number; cols: number }>,
  images: { externalId: string; concepts: string[]; caption: string }[],
  options: DemoLayerOptions = {},
) {
  const config = demoLayerConfig(options);
  const data = generatePlantedOnFeatures(config, { layerFeatures, roiLayer: DEMO_ROI_LAYER, strength: 5 });
  data.stimuli.forEach((s, i) => (s.id = images[i].externalId));
  const byId = new Map(images.map((im) => [im.externalId, im]));
  const subjects = demoSubjects(data).map((s) => ({
    ...s,
    stimuli: s.stimuli.map((st) => ({ externalId: st.externalId, concepts: byId.get(st.externalId)!.concepts, caption: byId.get(st.externalId)!.caption })),
  }));
  return {
    description:
      'Layer-sweep demo (deterministic, seed 2025): two subjects who saw images drawn by code, and a small CNN run on them; V1, V4 and FFA ' +
      "responses were generated from the CNN's stage1, stage2 and stage3 features respectively, so a layer sweep should find those layers.",
    model: { name: DEMO_LAYER_MODEL, family: 'cnn' },
    layers: data.layerNames,
    roiLayer: { ...DEMO_ROI_LAYER },
    /** Per planted layer, the share of each planted readout the other layers explain. */
    explainedByOthers: data.explainedByOthers,
    /** features are keyed by layer name (the backbone's own, as given). */
    subjects,
  };
}
