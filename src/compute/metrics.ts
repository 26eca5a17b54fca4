// Voxelwise encoding metrics on held-out stimuli. Inputs are row-major (n_stimuli, n_voxels)
// matrices of measured and predicted responses; every metric returns one float64 value per voxel.
// Sums run in float64 over float32 data, per voxel, after removing a per-voxel shift (the first
// row) so large offsets do not cancel catastrophically.
import { check } from './errors';
import type { Matrix } from './onnx/kernels';

export type ResponseMatrix = Matrix<Float32Array | Float64Array>;

/** What a voxel with zero variance in the measured responses scores. */
export type ConstantVoxelPolicy = 'zero' | 'nan';

/** Per-voxel sufficient statistics over stimuli (optionally weighted by bootstrap counts). */
export interface PairMoments {
  /** Number of (weighted) stimuli. */
  n: number;
  sy: Float64Array;
  sp: Float64Array;
  syy: Float64Array;
  spp: Float64Array;
  syp: Float64Array;
}

function checkPair(yTrue: ResponseMatrix, yPred: ResponseMatrix): void {
  check(yTrue.rows === yPred.rows && yTrue.cols === yPred.cols, 'SHAPE_MISMATCH', `measured ${yTrue.rows}x${yTrue.cols} vs predicted ${yPred.rows}x${yPred.cols}`);
  check(yTrue.rows >= 2, 'INVALID_ARGUMENT', 'need at least two stimuli');
}

/** Sums of y, p, y^2, p^2, y*p per voxel (y, p shifted by their first row). */
export function pairMoments(yTrue: ResponseMatrix, yPred: ResponseMatrix): PairMoments {
  checkPair(yTrue, yPred);
  const n = yTrue.rows;
  const v = yTrue.cols;
  const m: PairMoments = { n, sy: new Float64Array(v), sp: new Float64Array(v), syy: new Float64Array(v), spp: new Float64Array(v), syp: new Float64Array(v) };
  const y = yTrue.data;
  const p = yPred.data;
  for (let i = 0; i < n; i++) {
    const row = i * v;
    for (let j = 0; j < v; j++) {
      const a = y[row + j] - y[j];
      const b = p[row + j] - y[j];
      m.sy[j] += a;
      m.sp[j] += b;
      m.syy[j] += a * a;
      m.spp[j] += b * b;
      m.syp[j] += a * b;
    }
  }
  return m;
}

export type VoxelMetric = 'pearson' | 'explainedVariance' | 'r2';

/**
 * A metric per voxel from pair moments (shift-invariant: y and p must share the shift).
 * pearson: r; explainedVariance: 1 - Var(y - p) / Var(y) (BraInCoRL, sklearn
 * explained_variance_score); r2: 1 - SS_res / SS_tot (sklearn r2_score).
 */
export function metricFromMoments(m: PairMoments, metric: VoxelMetric, constant: ConstantVoxelPolicy = 'nan'): Float64Array {
  const v = m.sy.length;
  const out = new Float64Array(v);
  const n = m.n;
  for (let j = 0; j < v; j++) {
    const my = m.sy[j] / n;
    const mp = m.sp[j] / n;
    const varY = Math.max(m.syy[j] / n - my * my, 0);
    const tiny = 1e-24 * Math.max(m.syy[j] / n, Number.MIN_VALUE);
    if (!(varY > tiny)) {
      out[j] = constant === 'zero' ? 0 : Number.NaN;
      continue;
    }
    if (metric === 'pearson') {
      const varP = Math.max(m.spp[j] / n - mp * mp, 0);
      const cov = m.syp[j] / n - my * mp;
      out[j] = varP > 0 ? cov / Math.sqrt(varY * varP) : constant === 'zero' ? 0 : Number.NaN;
    } else {
      const see = m.syy[j] - 2 * m.syp[j] + m.spp[j];
      if (metric === 'r2') {
        out[j] = 1 - Math.max(see, 0) / n / varY;
      } else {
        const me = my - mp;
        out[j] = 1 - Math.max(see / n - me * me, 0) / varY;
      }
    }
  }
  return out;
}

/** Pearson r per voxel. yTrue, yPred : (n_stimuli, n_voxels) -> (n_voxels,). */
export function pearsonR(yTrue: ResponseMatrix, yPred: ResponseMatrix, constant: ConstantVoxelPolicy = 'nan'): Float64Array {
  return metricFromMoments(pairMoments(yTrue, yPred), 'pearson', constant);
}

/** 1 - Var(y - yhat) / Var(y) per voxel (BraInCoRL's explained variance). (n, v) -> (v,). */
export function explainedVariance(yTrue: ResponseMatrix, yPred: ResponseMatrix, constant: ConstantVoxelPolicy = 'nan'): Float64Array {
  return metricFromMoments(pairMoments(yTrue, yPred), 'explainedVariance', constant);
}

/** Coefficient of determination 1 - SS_res / SS_tot per voxel. (n, v) -> (v,). */
export function r2Score(yTrue: ResponseMatrix, yPred: ResponseMatrix, constant: ConstantVoxelPolicy = 'nan'): Float64Array {
  return metricFromMoments(pairMoments(yTrue, yPred), 'r2', constant);
}

/** Mean over voxels, ignoring NaN. */
export function nanMean(values: ArrayLike<number>): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(values[i])) {
      s += values[i];
      k++;
    }
  }
  return k ? s / k : Number.NaN;
}

/** Median over voxels, ignoring NaN (mean of the two middle values for even counts, as numpy). */
export function nanMedian(values: ArrayLike<number>): number {
  const finite = Float64Array.from(Array.prototype.filter.call(values, (x: number) => !Number.isNaN(x)) as number[]).sort();
  const k = finite.length;
  if (!k) return Number.NaN;
  return k % 2 ? finite[(k - 1) / 2] : (finite[k / 2 - 1] + finite[k / 2]) / 2;
}
