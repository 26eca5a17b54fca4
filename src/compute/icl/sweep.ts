// Test-time scaling: how well an in-context encoder predicts held-out stimuli from k context
// images, swept over k with repeats, against ridge fit on the very same k images (BraInCoRL's
// evaluation). Pure computation over matrices; the job (../jobs/encoding-icl) does the I/O.
import { explainedVariance, nanMean, pearsonR } from '../metrics';
import { affine, type Engine, type Matrix } from '../onnx';
import { Rng } from '../random';
import { ridgeCv } from '../ridge';
import { takeRows } from '../synthetic';
import type { InContextEncoder } from './encoder';
import { predictWeights, type InContextWeights } from './predict';
import { summarizeRepeats } from './repeats';

export type SweepMethod = 'in_context' | 'ridge';
export type SweepMetric = 'explained_variance' | 'pearson_r';
export const SWEEP_METRICS: readonly SweepMetric[] = ['explained_variance', 'pearson_r'];

export interface SweepOptions {
  ks: readonly number[];
  repeats: number;
  seed: number;
  batchVoxels: number;
  compareRidge: boolean;
  /** Ridge penalties tried per voxel (ENCODING_RIDGE's default grid). */
  alphas: readonly number[];
  /** Scope name ('all', 'roi:<name>') -> voxel indices. */
  scopes: Record<string, ArrayLike<number>>;
  /** Called after each (k, repeat) step; may throw to abort (cancellation). */
  onStep?: (done: number, total: number, message: string) => Promise<void>;
}

export interface CurvePoint {
  k: number;
  /** Mean over repeats of the voxel-mean score, and its Student-t 95% interval over repeats. */
  mean: number;
  ciLow: number | null;
  ciHigh: number | null;
  /** The voxel-mean score of each repeat, in repeat order. */
  values: number[];
}

/** curves[method][metric][scope] = one point per k, in ascending k. */
export type Curves = Partial<Record<SweepMethod, Record<SweepMetric, Record<string, CurvePoint[]>>>>;

export interface SweepResult {
  curves: Curves;
  /** Per-voxel explained variance averaged over repeats, (n_ks, n_voxels) per method. */
  voxelExplainedVariance: Partial<Record<SweepMethod, Float32Array>>;
  /** The in-context readout at the largest k, first repeat (the stored weights). */
  weights: InContextWeights;
  /** Context stimuli per repeat at the largest k, as row indices into the training matrices. */
  contexts: number[][];
  constantContextVoxels: number;
  encoderBatch: number;
}

/**
 * Contexts are nested: repeat r draws one random order of the training stimuli (seeded by seed and
 * r) and uses its first k for every k, so a curve's steps differ only by the added images.
 * Xtrain, Xtest : unit-norm features (n, E); Ytrain, Ytest : responses (n, n_voxels).
 */
export async function testTimeScaling(
  engine: Engine,
  encoder: InContextEncoder,
  data: { Xtrain: Matrix<Float32Array>; Ytrain: Matrix<Float32Array>; Xtest: Matrix<Float32Array>; Ytest: Matrix<Float32Array> },
  options: SweepOptions,
): Promise<SweepResult> {
  const ks = [...options.ks].sort((a, b) => a - b);
  const V = data.Ytrain.cols;
  const methods: SweepMethod[] = options.compareRidge ? ['in_context', 'ridge'] : ['in_context'];
  // perRepeat[method][metric][scope][kIndex][repeat]
  const perRepeat = Object.fromEntries(
    methods.map((m) => [m, Object.fromEntries(SWEEP_METRICS.map((x) => [x, Object.fromEntries(Object.keys(options.scopes).map((s) => [s, ks.map(() => [] as number[])]))]))]),
  ) as Record<SweepMethod, Record<SweepMetric, Record<string, number[][]>>>;
  const voxelEv = Object.fromEntries(methods.map((m) => [m, new Float64Array(ks.length * V)])) as Record<SweepMethod, Float64Array>;
  const voxelEvCount = Object.fromEntries(methods.map((m) => [m, new Float64Array(ks.length * V)])) as Record<SweepMethod, Float64Array>;
  let stored: InContextWeights | null = null;
  let constantContextVoxels = 0;
  const contexts: number[][] = [];
  const total = ks.length * options.repeats;
  let done = 0;

  for (let r = 0; r < options.repeats; r++) {
    const order = new Rng(options.seed).fork(`context-${r}`).permutation(data.Xtrain.rows);
    contexts.push(Array.from(order.subarray(0, ks[ks.length - 1])));
    for (let ki = 0; ki < ks.length; ki++) {
      const k = ks[ki];
      const idx = order.subarray(0, k);
      const Xc = takeRows(data.Xtrain, idx);
      const Yc = takeRows(data.Ytrain, idx);
      const icl = await predictWeights(engine, encoder, Xc, Yc, { batchVoxels: options.batchVoxels });
      if (ki === ks.length - 1 && r === 0) stored = icl;
      constantContextVoxels = Math.max(constantContextVoxels, icl.constantVoxels);
      const fits: [SweepMethod, Float32Array, Float32Array][] = [['in_context', icl.weights, icl.intercept]];
      if (options.compareRidge) {
        // Alpha by validation MSE: R^2 is undefined on a one-image fold (leave-one-out at small k)
        // and erratic on two-image folds, the sizes this sweep starts from.
        const fit = await ridgeCv(engine, Xc, Yc, { alphas: options.alphas, folds: Math.min(5, k), fitIntercept: true, score: 'l2_neg_loss' });
        fits.push(['ridge', fit.weights, fit.intercept]);
      }
      for (const [method, w, b] of fits) {
        const prediction = await affine(engine, data.Xtest, { data: w, rows: encoder.featureWidth, cols: V }, b);
        const perVoxel: Record<SweepMetric, Float64Array> = {
          explained_variance: explainedVariance(data.Ytest, prediction),
          pearson_r: pearsonR(data.Ytest, prediction),
        };
        for (const metric of SWEEP_METRICS)
          for (const [scope, voxels] of Object.entries(options.scopes)) perRepeat[method][metric][scope][ki].push(nanMean(Array.from(voxels, (j) => perVoxel[metric][j])));
        accumulate(voxelEv[method], voxelEvCount[method], perVoxel.explained_variance, ki * V);
      }
      done++;
      await options.onStep?.(done, total, `k = ${k}, repeat ${r + 1} of ${options.repeats}`);
    }
  }

  const curves: Curves = {};
  for (const method of methods) {
    curves[method] = Object.fromEntries(
      SWEEP_METRICS.map((metric) => [
        metric,
        Object.fromEntries(
          Object.entries(perRepeat[method][metric]).map(([scope, byK]) => [scope, byK.map((values, ki) => ({ k: ks[ki], ...point(values) }))]),
        ),
      ]),
    ) as Record<SweepMetric, Record<string, CurvePoint[]>>;
  }
  const voxelExplainedVariance: SweepResult['voxelExplainedVariance'] = {};
  for (const method of methods) voxelExplainedVariance[method] = Float32Array.from(voxelEv[method], (s, i) => (voxelEvCount[method][i] ? s / voxelEvCount[method][i] : Number.NaN));
  return { curves, voxelExplainedVariance, weights: stored!, contexts, constantContextVoxels, encoderBatch: stored!.batch };
}

function point(values: number[]): Omit<CurvePoint, 'k'> {
  const s = summarizeRepeats(values);
  return { mean: s.mean, ciLow: s.ciLow, ciHigh: s.ciHigh, values };
}

/** Running sum of finite per-voxel values into sum/count at offset. */
function accumulate(sum: Float64Array, count: Float64Array, values: Float64Array, offset: number) {
  for (let j = 0; j < values.length; j++) {
    if (Number.isFinite(values[j])) {
      sum[offset + j] += values[j];
      count[offset + j]++;
    }
  }
}
