// Per-voxel readouts from an in-context encoder: the caller's side of the contract (unit-norm
// feature rows, responses z-scored per voxel over the context, weights mapped back to the raw
// response scale), batched over voxels so memory stays bounded whatever the voxel count.
import type { Engine, Matrix } from '../onnx';
import { encoderFeeds, type InContextEncoder } from './encoder';

/**
 * Most float32 values in one call's tiled ic_img ([B, S, E]); the voxel batch shrinks to fit
 * (about 128 MB, e.g. 512 voxels x 500 images x 512 features).
 */
export const MAX_FEED_VALUES = 32 * 1024 * 1024;

/** Rows scaled to unit L2 norm (all-zero rows stay zero). X : (n, d) -> new (n, d). */
export function unitNormRows(x: Matrix<Float32Array>): Matrix<Float32Array> {
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < x.rows; i++) {
    let ss = 0;
    for (let j = 0; j < x.cols; j++) ss += x.data[i * x.cols + j] ** 2;
    const scale = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let j = 0; j < x.cols; j++) out[i * x.cols + j] = x.data[i * x.cols + j] * scale;
  }
  return { data: out, rows: x.rows, cols: x.cols };
}

export interface InContextWeights {
  /** Readout weights on the raw response scale, (E, n_voxels) row-major; apply to unit-norm rows. */
  weights: Float32Array;
  /** Intercept per voxel, (n_voxels,). */
  intercept: Float32Array;
  /** Voxels whose context responses were constant (weights 0, intercept = their mean). */
  constantVoxels: number;
  /** Voxels per encoder call actually used. */
  batch: number;
}

/**
 * Runs the encoder over every voxel on one shared context.
 * context : unit-norm features of the S context images, (S, E).
 * responses : the voxels' responses to those images, (S, n_voxels).
 * The encoder sees each voxel's responses z-scored over the context (ddof 0) and returns w, b for
 * that scale; here w_raw = w sd, b_raw = b sd + mean.
 */
export async function predictWeights(
  engine: Engine,
  encoder: InContextEncoder,
  context: Matrix<Float32Array>,
  responses: Matrix<Float32Array>,
  options: { batchVoxels: number; onBatch?: (done: number, total: number) => Promise<void> },
): Promise<InContextWeights> {
  const S = context.rows;
  const E = encoder.featureWidth;
  const V = responses.cols;
  if (context.cols !== E) throw new Error(`context features have width ${context.cols}; the encoder reads E = ${E}`);
  if (responses.rows !== S) throw new Error(`${responses.rows} response rows for ${S} context images`);
  const batch = Math.max(1, Math.min(options.batchVoxels, V, Math.floor(MAX_FEED_VALUES / (S * E))));
  // Every voxel shares the context, so the tiled image tensor is built once and sliced.
  const icImg = new Float32Array(batch * S * E);
  for (let b = 0; b < batch; b++) icImg.set(context.data, b * S * E);
  // The three-input variant also wants query images; its `pred` is unused, so one context image
  // per voxel stands in.
  const unknownImg = encoder.variant === 'three-input' ? icImg.slice(0, batch * E) : null;
  if (unknownImg) for (let b = 0; b < batch; b++) unknownImg.set(context.data.subarray(0, E), b * E);
  const icNrn = new Float32Array(batch * S);
  const mean = new Float64Array(batch);
  const sd = new Float64Array(batch);

  const weights = new Float32Array(E * V);
  const intercept = new Float32Array(V);
  let constantVoxels = 0;
  for (let v0 = 0; v0 < V; v0 += batch) {
    const nb = Math.min(batch, V - v0);
    zScoreColumns(responses.data, S, V, v0, nb, icNrn, mean, sd);
    const feeds = encoderFeeds(encoder, {
      icImg: icImg.subarray(0, nb * S * E),
      icNrn: icNrn.subarray(0, nb * S),
      unknownImg: unknownImg ? unknownImg.subarray(0, nb * E) : null,
      batch: nb,
      contextSize: S,
      queries: 1,
    });
    const out = (await engine.run(encoder.graph, feeds)).weights.data as Float32Array;
    constantVoxels += unscale(out, nb, E, v0, V, mean, sd, weights, intercept);
    await options.onBatch?.(v0 + nb, V);
  }
  return { weights, intercept, constantVoxels, batch };
}

/** Columns [v0, v0 + nb) of Y (S, V), z-scored per column into out (nb, S); mean and SD (ddof 0). */
function zScoreColumns(y: Float32Array, S: number, V: number, v0: number, nb: number, out: Float32Array, mean: Float64Array, sd: Float64Array) {
  for (let b = 0; b < nb; b++) {
    let m = 0;
    for (let s = 0; s < S; s++) m += y[s * V + v0 + b];
    m /= S;
    let ss = 0;
    for (let s = 0; s < S; s++) ss += (y[s * V + v0 + b] - m) ** 2;
    const d = Math.sqrt(ss / S);
    mean[b] = m;
    // A constant voxel (or one whose spread is lost in float32) has no z-score; it is fed zeros
    // and given w = 0, b = mean below.
    sd[b] = d > 1e-12 * Math.max(1, Math.abs(m)) ? d : 0;
    for (let s = 0; s < S; s++) out[b * S + s] = sd[b] > 0 ? (y[s * V + v0 + b] - m) / sd[b] : 0;
  }
}

/** Encoder output (nb, E+1) -> raw-scale weights (E, V) and intercept, columns v0.. ; returns constant count. */
function unscale(w: Float32Array, nb: number, E: number, v0: number, V: number, mean: Float64Array, sd: Float64Array, weights: Float32Array, intercept: Float32Array): number {
  let constant = 0;
  for (let b = 0; b < nb; b++) {
    const row = w.subarray(b * (E + 1), (b + 1) * (E + 1));
    if (sd[b] === 0) {
      constant++;
      for (let j = 0; j < E; j++) weights[j * V + v0 + b] = 0;
      intercept[v0 + b] = mean[b];
      continue;
    }
    for (let j = 0; j < E; j++) weights[j * V + v0 + b] = row[j] * sd[b];
    intercept[v0 + b] = row[E] * sd[b] + mean[b];
  }
  return constant;
}
