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
import { symmetricEigen } from '../eigen';

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

export interface PlantedOnFeaturesOptions {
  /** Layer name -> features (n_stimuli, width), e.g. a real backbone's pooled layers, in depth order. */
  layerFeatures: Record<string, { data: Float32Array; rows: number; cols: number }>;
  /** ROI name -> the layer whose features drive it. */
  roiLayer: Record<string, string>;
  /** SD of the planted contribution relative to the factors' unit SD (default 3). */
  strength?: number;
  /** Readout directions per planted layer (default 2). */
  factorsPerLayer?: number;
}

/**
 * Plants layers on given features (a backbone run on the stimuli) rather than synthetic ones.
 * A region planted on layer k gets strength * F_k(s) u_v, u_v ~ N(0, I_p / p), where the p
 * columns of F_k are linear readouts of layer k's own features (so layer k predicts the planted
 * signal exactly): the directions of layer k's column space that the other layers, each on its
 * own, explain least. Layers of one network overlap (later stages are functions of earlier ones
 * and pooled features of simple images share much), so a random readout of layer k would be
 * predicted almost as well by its neighbours; these readouts make layer k the right answer by
 * construction. Writes, per layer, the mean fraction of each readout's variance the other layers
 * explain to `explainedByOthers` (the smaller, the clearer the planted layer).
 */
export function generatePlantedOnFeatures(config: SyntheticConfig, options: PlantedOnFeaturesOptions): PlantedLayersDataset & { explainedByOthers: Record<string, number[]> } {
  const nStimuli = config.nSharedTest + config.subjects.length * config.nTrainPerSubject;
  const layerNames = Object.keys(options.layerFeatures);
  for (const [name, X] of Object.entries(options.layerFeatures))
    if (X.rows !== nStimuli) throw new Error(`layer ${name} has ${X.rows} rows for ${nStimuli} stimuli`);
  for (const [roi, layer] of Object.entries(options.roiLayer))
    if (!layerNames.includes(layer)) throw new Error(`ROI ${roi} is planted on unknown layer ${layer}`);
  const strength = options.strength ?? 3;
  const spans = new Map(layerNames.map((l) => [l, orthonormalBasis(centredColumns(options.layerFeatures[l]))]));
  const factors = new Map<string, { p: number; data: Float64Array }>();
  const explainedByOthers: Record<string, number[]> = {};
  for (const layer of new Set(Object.values(options.roiLayer))) {
    const Q = spans.get(layer)!;
    const r = Q.length;
    const others = layerNames.filter((l) => l !== layer);
    // M = sum_j Q' P_j Q, P_j the projection on layer j's span: its small eigenvalues are the
    // readouts of layer k the other layers explain least (the fraction, summed over them).
    const M = new Float64Array(r * r);
    for (const other of others) {
      const Qj = spans.get(other)!;
      const C = Q.map((q) => Qj.map((qj) => dot(q, qj)));
      for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) M[a * r + b] += C[a].reduce((acc, x, m) => acc + x * C[b][m], 0);
    }
    const { values, vectorsT } = symmetricEigen(M, r);
    const p = Math.min(options.factorsPerLayer ?? 2, r);
    const data = new Float64Array(nStimuli * p);
    for (let q = 0; q < p; q++)
      for (let a = 0; a < r; a++) {
        const w = vectorsT[q * r + a] * Math.sqrt(nStimuli);
        for (let s = 0; s < nStimuli; s++) data[s * p + q] += w * Q[a][s];
      }
    factors.set(layer, { p, data });
    explainedByOthers[layer] = Array.from(values.subarray(0, p), (v) => v / Math.max(1, others.length));
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
  const data = generateSynthetic({ ...config, backbones: [], plants: [...config.plants, ...plants] });
  const features = Object.fromEntries(Object.entries(options.layerFeatures).map(([name, X]) => [name, { data: X.data, rows: X.rows, cols: X.cols }]));
  return { ...data, features, layerFeatures: features, layerNames, roiLayer: { ...options.roiLayer }, explainedByOthers };
}

/** Centred columns; columns with under 1e-3 of the layer's largest SD (dead units) are left out. */
function centredColumns(X: { data: Float32Array; rows: number; cols: number }): Float64Array[] {
  const cols = Array.from({ length: X.cols }, (_, j) => {
    const col = new Float64Array(X.rows);
    let mean = 0;
    for (let s = 0; s < X.rows; s++) mean += (col[s] = X.data[s * X.cols + j]);
    mean /= X.rows;
    for (let s = 0; s < X.rows; s++) col[s] -= mean;
    return col;
  });
  const norms = cols.map((c) => Math.sqrt(dot(c, c)));
  const max = Math.max(...norms);
  return cols.filter((_, j) => norms[j] > 1e-3 * max);
}

/** Modified Gram-Schmidt (twice, for stability); near-dependent columns are skipped. */
function orthonormalBasis(cols: Float64Array[]): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const c of cols) {
    const v = Float64Array.from(c);
    const norm0 = Math.sqrt(dot(v, v));
    if (norm0 === 0) continue;
    for (let pass = 0; pass < 2; pass++)
      for (const q of basis) {
        const d = dot(v, q);
        for (let s = 0; s < v.length; s++) v[s] -= d * q[s];
      }
    const norm = Math.sqrt(dot(v, v));
    if (norm < 1e-6 * norm0) continue;
    for (let s = 0; s < v.length; s++) v[s] /= norm;
    basis.push(v);
  }
  return basis;
}

function dot(a: Float64Array, b: Float64Array): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
  return acc;
}
