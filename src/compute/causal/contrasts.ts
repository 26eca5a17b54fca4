// Per-unit contrasts of one design half over a response matrix (rows = stimuli, columns = units:
// voxels of one batch, or ROI means): the activation score, the paired causal contrast and one
// contrast per distractor group, each as an effect size and a two-sided p-value.
import type { Matrix } from '../onnx';
import type { CausalDesign } from './design';
import { cohensDav, cohensDz, hedgesG, pairedT, welchT } from './stats';

export interface Contrast {
  /** Standardised effect per unit: Hedges' g (two groups) or Cohen's d_z (pairs). */
  effect: Float64Array;
  /** Two-sided p-value per unit. */
  p: Float64Array;
}

/**
 * The paired contrast's `effect` is Cohen's d_av: the mean difference over the average SD of the
 * two conditions (Cumming 2012), on the same scale as the Hedges' g of the other contrasts, so
 * one minimum effect applies to all. d_z (mean over the SD of the differences) is kept beside it:
 * on predicted responses the differences can be nearly constant, making d_z large for any voxel
 * the edit moves at all, however little.
 */
export interface PairedContrast extends Contrast {
  /** Mean of positive minus counterfactual, in response units. */
  meanDiff: Float64Array;
  sdDiff: Float64Array;
  /** Average SD of positives and counterfactuals, sqrt((var_pos + var_cf) / 2). */
  sdAverage: Float64Array;
  dz: Float64Array;
}

export interface DesignContrasts {
  /** Positives against the baseline (what an activation localiser reports). */
  activation: Contrast;
  /** Positives against their own counterfactuals (paired). */
  causal: PairedContrast;
  /** Positives against each distractor group, in the design's order. */
  distractors: Contrast[];
}

export interface GroupMoments {
  mean: Float64Array;
  /** Variance, ddof 1. */
  variance: Float64Array;
  n: number;
}

/** Column means and variances (two passes, float64) over the given rows. */
export function groupMoments(y: Matrix<Float32Array | Float64Array>, rows: Int32Array): GroupMoments {
  const c = y.cols;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (const r of rows) {
    const off = r * c;
    for (let j = 0; j < c; j++) mean[j] += y.data[off + j];
  }
  for (let j = 0; j < c; j++) mean[j] /= rows.length;
  for (const r of rows) {
    const off = r * c;
    for (let j = 0; j < c; j++) {
      const d = y.data[off + j] - mean[j];
      variance[j] += d * d;
    }
  }
  for (let j = 0; j < c; j++) variance[j] /= rows.length - 1;
  return { mean, variance, n: rows.length };
}

/** Moments of the paired differences y[a[i]] - y[b[i]]. */
export function pairedMoments(y: Matrix<Float32Array | Float64Array>, a: Int32Array, b: Int32Array): GroupMoments {
  const c = y.cols;
  const n = a.length;
  const diff = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    const oa = a[i] * c;
    const ob = b[i] * c;
    for (let j = 0; j < c; j++) diff[i * c + j] = y.data[oa + j] - y.data[ob + j];
  }
  return groupMoments({ data: diff, rows: n, cols: c }, Int32Array.from({ length: n }, (_, i) => i));
}

function twoGroup(a: GroupMoments, b: GroupMoments): Contrast {
  const c = a.mean.length;
  const effect = new Float64Array(c);
  const p = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    effect[j] = hedgesG(a.mean[j], a.variance[j], a.n, b.mean[j], b.variance[j], b.n);
    p[j] = welchT(a.mean[j], a.variance[j], a.n, b.mean[j], b.variance[j], b.n).p;
  }
  return { effect, p };
}

export function designContrasts(y: Matrix<Float32Array | Float64Array>, design: CausalDesign): DesignContrasts {
  const pos = groupMoments(y, design.positives);
  const diff = pairedMoments(y, design.positives, design.counterfactuals);
  const c = y.cols;
  const sdDiff = diff.variance.map(Math.sqrt);
  const cf = groupMoments(y, design.counterfactuals);
  const sdAverage = pos.variance.map((v, j) => Math.sqrt((v + cf.variance[j]) / 2));
  const causal: PairedContrast = { effect: new Float64Array(c), p: new Float64Array(c), meanDiff: diff.mean, sdDiff, sdAverage, dz: new Float64Array(c) };
  for (let j = 0; j < c; j++) {
    causal.dz[j] = cohensDz(diff.mean[j], sdDiff[j]);
    causal.effect[j] = cohensDav(diff.mean[j], sdAverage[j]);
    causal.p[j] = pairedT(diff.mean[j], sdDiff[j], diff.n).p;
  }
  return {
    activation: twoGroup(pos, groupMoments(y, design.baseline)),
    causal,
    distractors: design.distractors.map((g) => twoGroup(pos, groupMoments(y, g.rows))),
  };
}
