// Per-voxel summaries of a response array computed in one streaming pass, so an import never
// holds the whole [n_repeats, n_stimuli, n_voxels] array: moments by Chan's parallel update in
// float64, and the NSD noise ceiling from the spread of repeats of the same stimulus.

/** Running mean and variance per voxel over rows (trials), merged chunk by chunk. */
export class VoxelMoments {
  readonly count: number[] = [0];
  readonly mean: Float64Array;
  /** Sum of squared deviations from the mean (M2). */
  readonly m2: Float64Array;
  private n = 0;

  constructor(readonly nVoxels: number) {
    this.mean = new Float64Array(nVoxels);
    this.m2 = new Float64Array(nVoxels);
  }

  get rows(): number {
    return this.n;
  }

  /**
   * Adds `rows` trials. data: [rows, nVoxels] C order.
   * Chunk moments are computed two-pass (exact for the chunk), then merged (Chan et al. 1979).
   */
  add(data: Float32Array, rows: number): void {
    const v = this.nVoxels;
    if (data.length !== rows * v) throw new RangeError(`expected ${rows * v} values for ${rows} rows, got ${data.length}`);
    if (rows === 0) return;
    const cm = new Float64Array(v);
    for (let r = 0; r < rows; r++) {
      const off = r * v;
      for (let j = 0; j < v; j++) cm[j] += data[off + j];
    }
    for (let j = 0; j < v; j++) cm[j] /= rows;
    const c2 = new Float64Array(v);
    for (let r = 0; r < rows; r++) {
      const off = r * v;
      for (let j = 0; j < v; j++) {
        const d = data[off + j] - cm[j];
        c2[j] += d * d;
      }
    }
    const n = this.n;
    const total = n + rows;
    for (let j = 0; j < v; j++) {
      const delta = cm[j] - this.mean[j];
      this.mean[j] += (delta * rows) / total;
      this.m2[j] += c2[j] + (delta * delta * n * rows) / total;
    }
    this.n = total;
  }

  /** Standard deviation per voxel; ddof 0 (population) as scipy.stats.zscore uses. */
  sd(ddof = 0): Float64Array {
    const out = new Float64Array(this.nVoxels);
    const denom = this.n - ddof;
    for (let j = 0; j < this.nVoxels; j++) out[j] = denom > 0 ? Math.sqrt(this.m2[j] / denom) : NaN;
    return out;
  }
}

/**
 * Accumulates, per voxel, the sum over stimuli of the variance across repeats (ddof 1), from
 * chunks that hold the same stimulus rows of every repeat.
 */
export class RepeatVariance {
  readonly sumVar: Float64Array;
  private stimuli = 0;

  constructor(readonly nVoxels: number, readonly nRepeats: number) {
    if (nRepeats < 2) throw new RangeError('the noise ceiling needs at least 2 repeats');
    this.sumVar = new Float64Array(nVoxels);
  }

  /** repeats[r]: [rows, nVoxels] for repeat r, all covering the same stimuli. */
  add(repeats: Float32Array[], rows: number): void {
    const v = this.nVoxels;
    const R = this.nRepeats;
    if (repeats.length !== R) throw new RangeError(`expected ${R} repeats, got ${repeats.length}`);
    for (let s = 0; s < rows; s++) {
      const off = s * v;
      for (let j = 0; j < v; j++) {
        let m = 0;
        for (let r = 0; r < R; r++) m += repeats[r][off + j];
        m /= R;
        let ss = 0;
        for (let r = 0; r < R; r++) {
          const d = repeats[r][off + j] - m;
          ss += d * d;
        }
        this.sumVar[j] += ss / (R - 1);
      }
    }
    this.stimuli += rows;
  }

  get nStimuli(): number {
    return this.stimuli;
  }
}

export interface NoiseCeiling {
  /** Noise-ceiling SNR per voxel (NSD's ncsnr). */
  ncsnr: Float64Array;
  /** Percent of variance explainable when `nAveraged` repeats are averaged (NSD's NC). */
  percent: Float64Array;
}

/**
 * NSD noise ceiling (Allen et al. 2022). With betas z-scored per voxel over all trials, the noise
 * variance is the mean over stimuli of the across-repeat variance; the signal variance is what is
 * left of the unit total:
 *   ncsnr = sqrt(max(0, 1 - noiseVar)) / sqrt(noiseVar)
 *   NC%   = 100 * ncsnr^2 / (ncsnr^2 + 1 / nAveraged)
 * Z-scoring divides every value by the voxel's SD, so noiseVar = meanRepeatVar / totalVar here
 * without materialising z-scores. A voxel with zero total variance gets NaN (no signal to explain).
 */
export function nsdNoiseCeiling(meanRepeatVar: Float64Array, totalVar: Float64Array, nAveraged: number): NoiseCeiling {
  const n = meanRepeatVar.length;
  const ncsnr = new Float64Array(n);
  const percent = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const noise = totalVar[j] > 0 ? meanRepeatVar[j] / totalVar[j] : NaN;
    const snr = noise > 0 ? Math.sqrt(Math.max(0, 1 - noise)) / Math.sqrt(noise) : noise === 0 ? Infinity : NaN;
    ncsnr[j] = snr;
    const s2 = snr * snr;
    percent[j] = snr === Infinity ? 100 : (100 * s2) / (s2 + 1 / nAveraged);
  }
  return { ncsnr, percent };
}

/** Median ignoring NaN; NaN when nothing is finite. */
export function nanMedian(values: ArrayLike<number>): number {
  const finite = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}
