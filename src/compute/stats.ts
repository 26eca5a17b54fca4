// Noise ceilings, ceiling-normalised scores, ROI aggregates with bootstrap confidence intervals,
// and a streaming per-voxel mean/SD accumulator for responses that arrive in row chunks.
import { ComputeError, check } from './errors';
import { metricFromMoments, nanMean, nanMedian, type ConstantVoxelPolicy, type PairMoments, type ResponseMatrix, type VoxelMetric } from './metrics';
import type { Engine } from './onnx/engine';
import { GraphBuilder } from './onnx/graph';
import { cachedGraph } from './onnx/kernels';
import { Rng } from './random';
import { timeSlicer } from './yield';

// ------------------------------------------------------------------ streaming moments

/**
 * Per-voxel count, mean and sum of squared deviations over rows pushed in chunks (any chunk size),
 * e.g. the trials of a [n_repeats, n_stimuli, n_voxels] array read row block by row block. Each
 * chunk is reduced in float64 with two passes and merged with Chan et al.'s pairwise update, which
 * stays accurate when the mean is large compared with the spread. NaN values are skipped per voxel.
 */
export class VoxelMomentsAccumulator {
  readonly count: Float64Array;
  private readonly meanAcc: Float64Array;
  private readonly m2: Float64Array;

  constructor(readonly nVoxels: number) {
    this.count = new Float64Array(nVoxels);
    this.meanAcc = new Float64Array(nVoxels);
    this.m2 = new Float64Array(nVoxels);
  }

  /** rows : (n_rows, n_voxels) row-major; n_rows = rows.length / n_voxels. */
  push(rows: Float32Array | Float64Array): this {
    const v = this.nVoxels;
    check(rows.length % v === 0, 'SHAPE_MISMATCH', `chunk of ${rows.length} values is not whole rows of ${v} voxels`);
    const nRows = rows.length / v;
    if (nRows === 0) return this;
    const cnt = new Float64Array(v);
    const sum = new Float64Array(v);
    for (let i = 0; i < nRows; i++) {
      const r = i * v;
      for (let j = 0; j < v; j++) {
        const x = rows[r + j];
        if (x === x) {
          cnt[j]++;
          sum[j] += x;
        }
      }
    }
    const mean = new Float64Array(v);
    for (let j = 0; j < v; j++) mean[j] = cnt[j] ? sum[j] / cnt[j] : 0;
    const m2 = new Float64Array(v);
    for (let i = 0; i < nRows; i++) {
      const r = i * v;
      for (let j = 0; j < v; j++) {
        const x = rows[r + j];
        if (x === x) {
          const dx = x - mean[j];
          m2[j] += dx * dx;
        }
      }
    }
    this.combine(cnt, mean, m2);
    return this;
  }

  /** Adds another accumulator's rows (e.g. one per worker or per file). */
  merge(other: VoxelMomentsAccumulator): this {
    check(other.nVoxels === this.nVoxels, 'SHAPE_MISMATCH', 'accumulators cover different voxel counts');
    this.combine(other.count, other.meanAcc, other.m2);
    return this;
  }

  private combine(nB: Float64Array, meanB: Float64Array, m2B: Float64Array): void {
    for (let j = 0; j < this.nVoxels; j++) {
      const nA = this.count[j];
      const nb = nB[j];
      if (nb === 0) continue;
      const n = nA + nb;
      const delta = meanB[j] - this.meanAcc[j];
      this.meanAcc[j] += (delta * nb) / n;
      this.m2[j] += m2B[j] + (delta * delta * nA * nb) / n;
      this.count[j] = n;
    }
  }

  /** Per-voxel mean, shape (n_voxels,); NaN where no value was seen. */
  mean(): Float64Array {
    return Float64Array.from(this.meanAcc, (m, j) => (this.count[j] ? m : Number.NaN));
  }

  /** Per-voxel variance with `ddof` (1: sample variance, as NSD's MATLAB zscore), shape (n_voxels,). */
  variance(ddof = 1): Float64Array {
    return Float64Array.from(this.m2, (m2, j) => (this.count[j] > ddof ? m2 / (this.count[j] - ddof) : Number.NaN));
  }

  sd(ddof = 1): Float64Array {
    return this.variance(ddof).map(Math.sqrt);
  }
}

// ------------------------------------------------------------------ noise ceiling

/** Responses with repeats: data (n_reps, n_stimuli, n_voxels) row-major. */
export interface RepeatedResponses {
  data: Float32Array | Float64Array;
  nReps: number;
  nStimuli: number;
  nVoxels: number;
}

export interface NoiseCeiling {
  /** Noise-ceiling SNR per voxel, (n_voxels,). */
  ncsnr: Float64Array;
  /** Mean over stimuli of the across-repeat variance of z-scored betas, (n_voxels,). */
  noiseVariance: Float64Array;
  /** Noise ceiling in percent of variance for data averaged over `nAveraged` trials, (n_voxels,). */
  ncPercent: Float64Array;
  nAveraged: number;
  /** Voxels constant over every trial (noise variance 0/0): NaN ncsnr and NC%. */
  nUndefined: number;
}

/**
 * ncsnr from the noise variance of z-scored betas. A voxel constant over every trial (0/0) has no
 * measurable ceiling: NaN, since calling it 100% would lift medians and shrink normalised scores.
 * A voxel whose repeats agree exactly while its signal varies has no noise: ncsnr is infinite and
 * its ceiling the formula's limit, 100%.
 */
export function ncsnrFromNoiseVariance(noiseVariance: number): number {
  if (!Number.isFinite(noiseVariance)) return Number.NaN;
  if (noiseVariance <= 0) return Number.POSITIVE_INFINITY;
  return Math.sqrt(Math.max(0, 1 - noiseVariance)) / Math.sqrt(noiseVariance);
}

/**
 * NSD noise ceiling (Allen et al. 2022): betas z-scored per voxel, noise variance = mean over
 * stimuli of the variance across repeats (ddof 1), ncsnr = sqrt(max(0, 1 - noise var)) / sqrt(noise var),
 * NC% = 100 ncsnr^2 / (ncsnr^2 + 1 / nAveraged), nAveraged being the number of trials averaged
 * in the test data the model is scored on (3 for NSD's usual 3-repeat average, 1 for single trials).
 *
 * z-scoring: `zscore: 'allTrials'` (default) z-scores each voxel over every trial given, with the
 * sample SD (ddof 1, MATLAB's zscore, which NSD used); NSD z-scores within each scan session, so
 * pass `zscore: 'none'` for betas that were already z-scored per session upstream. Because
 * z-scoring is affine per voxel, the noise variance is computed from raw betas divided by the
 * voxel's total variance, without materialising z-scored data.
 */
export function noiseCeiling(
  responses: RepeatedResponses,
  options: { nAveraged: number; zscore?: 'allTrials' | 'none' },
): NoiseCeiling {
  const { nReps, nStimuli, nVoxels: v, data } = responses;
  check(data.length === nReps * nStimuli * v, 'SHAPE_MISMATCH', 'repeated responses data does not match (n_reps, n_stimuli, n_voxels)');
  check(nReps >= 2, 'INVALID_ARGUMENT', 'a noise ceiling needs at least two repeats');
  check(options.nAveraged >= 1, 'INVALID_ARGUMENT', 'nAveraged must be >= 1');
  const within = new Float64Array(v);
  const mean = new Float64Array(v);
  for (let s = 0; s < nStimuli; s++) {
    mean.fill(0);
    for (let r = 0; r < nReps; r++) {
      const row = (r * nStimuli + s) * v;
      for (let j = 0; j < v; j++) mean[j] += data[row + j];
    }
    for (let j = 0; j < v; j++) mean[j] /= nReps;
    for (let r = 0; r < nReps; r++) {
      const row = (r * nStimuli + s) * v;
      for (let j = 0; j < v; j++) {
        const dx = data[row + j] - mean[j];
        within[j] += dx * dx;
      }
    }
  }
  let total: Float64Array;
  if ((options.zscore ?? 'allTrials') === 'allTrials') {
    total = new VoxelMomentsAccumulator(v).push(data).variance(1);
  } else {
    total = new Float64Array(v).fill(1);
  }
  const noiseVariance = new Float64Array(v);
  const ncsnr = new Float64Array(v);
  const ncPercent = new Float64Array(v);
  let nUndefined = 0;
  for (let j = 0; j < v; j++) {
    const nv = within[j] / (nStimuli * (nReps - 1)) / total[j];
    noiseVariance[j] = nv;
    ncsnr[j] = ncsnrFromNoiseVariance(nv);
    ncPercent[j] = ncPercentFromSnr(ncsnr[j], options.nAveraged);
    if (Number.isNaN(ncPercent[j])) nUndefined++;
  }
  return { ncsnr, noiseVariance, ncPercent, nAveraged: options.nAveraged, nUndefined };
}

/** NC% = 100 ncsnr^2 / (ncsnr^2 + 1 / nAveraged); NaN (undefined ceiling) stays NaN. */
export function ncPercentFromSnr(ncsnr: number, nAveraged: number): number {
  if (Number.isNaN(ncsnr)) return Number.NaN;
  const s2 = ncsnr * ncsnr;
  if (!Number.isFinite(s2)) return 100;
  return (100 * s2) / (s2 + 1 / nAveraged);
}

export interface CeilingNormalized {
  /** score / (NC% / 100) per voxel; NaN where the ceiling is 0 or the score is NaN. */
  normalized: Float64Array;
  /** 1 where the normalised score exceeds 1 (kept, not clipped: shown and flagged). */
  aboveCeiling: Uint8Array;
  nAboveCeiling: number;
}

/**
 * Noise-ceiling-normalised scores. `scores` are variance-explained quantities (EV or R^2) unless
 * `squareCorrelation` is set, in which case they are Pearson r and r^2 is normalised, keeping r's
 * sign (so anti-correlated voxels stay visibly negative).
 */
export function ceilingNormalize(scores: ArrayLike<number>, ncPercent: ArrayLike<number>, options: { squareCorrelation?: boolean } = {}): CeilingNormalized {
  check(scores.length === ncPercent.length, 'SHAPE_MISMATCH', 'scores and noise ceilings differ in length');
  const normalized = new Float64Array(scores.length);
  const aboveCeiling = new Uint8Array(scores.length);
  let nAboveCeiling = 0;
  for (let j = 0; j < scores.length; j++) {
    const s = options.squareCorrelation ? Math.sign(scores[j]) * scores[j] * scores[j] : scores[j];
    const frac = ncPercent[j] / 100;
    normalized[j] = frac > 0 ? s / frac : Number.NaN;
    if (normalized[j] > 1) {
      aboveCeiling[j] = 1;
      nAboveCeiling++;
    }
  }
  return { normalized, aboveCeiling, nAboveCeiling };
}

// ------------------------------------------------------------------ ROI aggregates with bootstrap

export interface RoiBootstrapOptions {
  metric: VoxelMetric;
  /** Bootstrap resamples (default 1000). */
  nBootstrap?: number;
  seed?: number;
  /** Central interval mass (default 0.95: 2.5th and 97.5th percentiles). */
  confidence?: number;
  /** Explicit resamples of stimulus indices, each of length n_stimuli (override nBootstrap/seed). */
  indices?: readonly ArrayLike<number>[];
  /** Voxels per product (memory knob): memory is O(n_stimuli * 5 * voxelBatch). Default 4096. */
  voxelBatch?: number;
  constantVoxels?: ConstantVoxelPolicy;
}

export interface RoiSummary {
  roi: string;
  /** Voxels the aggregates average: those of the ROI whose metric is defined (not NaN). */
  nVoxels: number;
  /** Voxels of the ROI whose metric is undefined (constant over the stimuli), left out. */
  nUndefined: number;
  mean: number;
  median: number;
  meanCi: [number, number];
  medianCi: [number, number];
  nBootstrap: number;
}

/** Bootstrap resamples of stimulus indices with replacement from a seeded generator. */
export function bootstrapIndices(nStimuli: number, nBootstrap: number, seed: number): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: nBootstrap }, () => Int32Array.from({ length: nStimuli }, () => rng.int(nStimuli)));
}

/**
 * Per-ROI mean and median of a per-voxel metric with percentile bootstrap CIs over stimuli: each
 * resample draws stimuli with replacement, recomputes the metric for every voxel on the resample,
 * then the ROI aggregate. The resampled sums are products counts (n_boot, n_stimuli) @ [y, p, y^2,
 * p^2, y p] (n_stimuli, 5 v), run as one float32 product per voxel batch in the engine.
 *
 * yTrue, yPred : (n_stimuli, n_voxels); rois : name -> voxel indices.
 */
export async function roiBootstrap(
  engine: Engine,
  yTrue: ResponseMatrix,
  yPred: ResponseMatrix,
  rois: Record<string, ArrayLike<number>>,
  options: RoiBootstrapOptions,
): Promise<RoiSummary[]> {
  check(yTrue.rows === yPred.rows && yTrue.cols === yPred.cols, 'SHAPE_MISMATCH', 'measured and predicted responses differ in shape');
  const n = yTrue.rows;
  const v = yTrue.cols;
  const resamples = options.indices ?? bootstrapIndices(n, options.nBootstrap ?? 1000, options.seed ?? 0);
  const nBoot = resamples.length;
  check(nBoot >= 1, 'INVALID_ARGUMENT', 'need at least one bootstrap resample');
  const confidence = options.confidence ?? 0.95;
  const constant = options.constantVoxels ?? 'nan';
  // Default batch: each counts product (2 n_boot n 5 vb flops) near 2e9, so no single engine call
  // holds the event loop long (see src/compute/yield.ts).
  const voxelBatch = Math.max(1, Math.floor(options.voxelBatch ?? Math.max(16, Math.min(4096, Math.floor(2e9 / (10 * n * nBoot))))));
  const slice = timeSlicer();

  // Voxels used by any ROI, compacted.
  const used = new Int32Array(v).fill(-1);
  const selected: number[] = [];
  for (const idx of Object.values(rois)) {
    for (const j of Array.from(idx)) {
      check(Number.isInteger(j) && j >= 0 && j < v, 'INVALID_ARGUMENT', `ROI voxel index ${j} out of range`);
      if (used[j] < 0) {
        used[j] = selected.length;
        selected.push(j);
      }
    }
  }
  const vs = selected.length;
  const counts = new Float32Array(nBoot * n);
  resamples.forEach((sample, b) => {
    check(sample.length === n, 'INVALID_ARGUMENT', 'each resample must have n_stimuli indices');
    for (let i = 0; i < n; i++) counts[b * n + sample[i]] += 1;
  });

  const pointMoments = emptyMoments(vs, n);
  const bootMetric = new Float32Array(nBoot * vs);
  for (let c0 = 0; c0 < vs; c0 += voxelBatch) {
    const vb = Math.min(voxelBatch, vs - c0);
    // Columns: y, p, y^2, p^2, y p, with both shifted by the voxel's first measured value.
    const cols = new Float32Array(n * 5 * vb);
    for (let i = 0; i < n; i++) {
      const base = i * 5 * vb;
      for (let k = 0; k < vb; k++) {
        const j = selected[c0 + k];
        const shift = yTrue.data[j];
        const y = yTrue.data[i * v + j] - shift;
        const p = yPred.data[i * v + j] - shift;
        cols[base + k] = y;
        cols[base + vb + k] = p;
        cols[base + 2 * vb + k] = y * y;
        cols[base + 3 * vb + k] = p * p;
        cols[base + 4 * vb + k] = y * p;
        pointMoments.sy[c0 + k] += y;
        pointMoments.sp[c0 + k] += p;
        pointMoments.syy[c0 + k] += y * y;
        pointMoments.spp[c0 + k] += p * p;
        pointMoments.syp[c0 + k] += y * p;
      }
    }
    const sums = (await engine.run(countsProductGraph(), { C: { data: counts, dims: [nBoot, n] }, V: { data: cols, dims: [n, 5 * vb] } })).S.data as Float32Array;
    for (let b = 0; b < nBoot; b++) {
      await slice();
      const row = b * 5 * vb;
      const m: PairMoments = {
        n,
        sy: Float64Array.from(sums.subarray(row, row + vb)),
        sp: Float64Array.from(sums.subarray(row + vb, row + 2 * vb)),
        syy: Float64Array.from(sums.subarray(row + 2 * vb, row + 3 * vb)),
        spp: Float64Array.from(sums.subarray(row + 3 * vb, row + 4 * vb)),
        syp: Float64Array.from(sums.subarray(row + 4 * vb, row + 5 * vb)),
      };
      bootMetric.set(metricFromMoments(m, options.metric, constant), b * vs + c0);
    }
  }
  const point = metricFromMoments(pointMoments, options.metric, constant);

  const lowQ = (1 - confidence) / 2;
  const highQ = 1 - lowQ;
  const summaries: RoiSummary[] = [];
  for (const [roi, idx] of Object.entries(rois)) {
    const members = Array.from(idx, (j) => used[j]);
    const values = new Float64Array(members.length);
    const means = new Float64Array(nBoot);
    const medians = new Float64Array(nBoot);
    for (let b = 0; b < nBoot; b++) {
      // A median per resample sorts the ROI's voxels: seconds in all for whole-brain ROIs.
      await slice();
      for (let k = 0; k < members.length; k++) values[k] = bootMetric[b * vs + members[k]];
      means[b] = nanMean(values);
      medians[b] = nanMedian(values);
    }
    const pointValues = Float64Array.from(members, (k) => point[k]);
    const nDefined = pointValues.filter((x) => !Number.isNaN(x)).length;
    summaries.push({
      roi,
      nVoxels: nDefined,
      nUndefined: members.length - nDefined,
      mean: nanMean(pointValues),
      median: nanMedian(pointValues),
      meanCi: [percentile(means, lowQ), percentile(means, highQ)],
      medianCi: [percentile(medians, lowQ), percentile(medians, highQ)],
      nBootstrap: nBoot,
    });
  }
  return summaries;
}

function emptyMoments(v: number, n: number): PairMoments {
  return { n, sy: new Float64Array(v), sp: new Float64Array(v), syy: new Float64Array(v), spp: new Float64Array(v), syp: new Float64Array(v) };
}

function countsProductGraph() {
  return cachedGraph('stats:counts_product', () => {
    const g = new GraphBuilder('bootstrap_counts_product');
    const c = g.input('C', 'float32', ['b', 'n']);
    const vals = g.input('V', 'float32', ['n', 'k']);
    g.output(g.node('MatMul', [c, vals]), 'S', 'float32', ['b', 'k']);
    return g.build();
  });
}

/** Percentile with linear interpolation between order statistics (numpy's default); NaN ignored. */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (q < 0 || q > 1) throw new ComputeError('INVALID_ARGUMENT', 'percentile q must be in [0, 1]');
  const sorted = Float64Array.from(Array.prototype.filter.call(values, (x: number) => !Number.isNaN(x)) as number[]).sort();
  if (!sorted.length) return Number.NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
