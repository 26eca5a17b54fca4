// Synthetic "layers" of one model with a planted answer to "which layer predicts which ROI".
//
// Every layer carries the shared latent stimulus factors of src/compute/synthetic.ts (so every
// layer predicts the part of each voxel's signal that comes from them) plus factors private to
// that layer (think of features computed at that depth and nowhere else). A region planted on
// layer k gets, on top of its usual latent-driven signal, a strong contribution from layer k's
// private factors, which only layer k's features can predict: its best layer is k by
// construction. Regions not planted have no preferred layer.
//
//   private factors  F_k(s)     ~ N(0, I_p)                                   (n_stimuli, p)
//   layer features   X_k(s)     = z_s A_k + noise + F_k(s) M_k                (n_stimuli, width_k)
//   planted voxel v  raw(s, v) += strength * F_k(s) u_v,   u_v ~ N(0, I_p / p)
import { generateSynthetic, type SignalPlant, type SyntheticConfig, type SyntheticDataset } from '../synthetic';
import { Rng } from '../random';

export interface PlantedLayerSpec {
  name: string;
  width: number;
  /** Factors only this layer carries (default 8). */
  privateFactors?: number;
}

export interface PlantedLayersOptions {
  layers: PlantedLayerSpec[];
  /** ROI name -> the layer whose private factors drive it. */
  roiLayer: Record<string, string>;
  /** SD of the private contribution relative to the private factors' unit SD (default 3). */
  strength?: number;
}

export interface PlantedLayersDataset extends SyntheticDataset {
  /** Layer name -> features (n_stimuli, width), in `options.layers` order. */
  layerFeatures: Record<string, SyntheticDataset['features'][string]>;
  layerNames: string[];
  roiLayer: Record<string, string>;
}

/** `config.backbones` is replaced by the layers; everything else (subjects, ROIs, repeats) is kept. */
export function generatePlantedLayers(config: SyntheticConfig, options: PlantedLayersOptions): PlantedLayersDataset {
  const nStimuli = config.nSharedTest + config.subjects.length * config.nTrainPerSubject;
  const rng = new Rng(config.seed).fork('planted-layers');
  const strength = options.strength ?? 3;
  const layerNames = options.layers.map((l) => l.name);
  for (const [roi, layer] of Object.entries(options.roiLayer))
    if (!layerNames.includes(layer)) throw new Error(`ROI ${roi} is planted on unknown layer ${layer}`);

  const factors = new Map<string, { p: number; data: Float64Array }>();
  for (const l of options.layers) {
    const p = l.privateFactors ?? 8;
    factors.set(l.name, { p, data: rng.fork(`factors:${l.name}`).fillNormal(new Float64Array(nStimuli * p)) });
  }
  const plants: SignalPlant[] = Object.entries(options.roiLayer).map(([roi, layer]) => (ctx, raw) => {
    const { p, data } = factors.get(layer)!;
    const members = ctx.subject.rois.find((r) => r.name === roi)?.voxels ?? new Int32Array(0);
    const v = ctx.subject.nVoxels;
    const u = ctx.rng.fillNormal(new Float64Array(members.length * p), 1 / Math.sqrt(p));
    ctx.stimulusIndices.forEach((s, i) => {
      members.forEach((j, m) => {
        let acc = 0;
        for (let q = 0; q < p; q++) acc += data[s * p + q] * u[m * p + q];
        raw[i * v + j] += strength * acc;
      });
    });
    ctx.record(`layer:${roi}`, layer);
  });

  const data = generateSynthetic({
    ...config,
    backbones: options.layers.map((l) => ({ name: l.name, width: l.width })),
    plants: [...config.plants, ...plants],
  });
  // Mix each layer's private factors into its features.
  for (const l of options.layers) {
    const X = data.features[l.name];
    const { p, data: F } = factors.get(l.name)!;
    const M = rng.fork(`mixing:${l.name}`).fillNormal(new Float64Array(p * X.cols), 1 / Math.sqrt(p));
    for (let s = 0; s < nStimuli; s++)
      for (let j = 0; j < X.cols; j++) {
        let acc = 0;
        for (let q = 0; q < p; q++) acc += F[s * p + q] * M[q * X.cols + j];
        X.data[s * X.cols + j] += acc;
      }
  }
  return { ...data, layerFeatures: data.features, layerNames, roiLayer: { ...options.roiLayer } };
}
