// The NSD noise ceiling computed from a response array that arrives in chunks of the same
// stimulus rows of every repeat, so an import never holds the whole
// [n_repeats, n_stimuli, n_voxels] array. Same definition as `noiseCeiling` in ./stats (which
// takes the whole array); a test holds the two to each other.
import { ncPercentFromSnr, ncsnrFromNoiseVariance, type NoiseCeiling } from './stats';

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

  /** repeats[r]: (rows, n_voxels) row-major for repeat r; every repeat covers the same stimuli. */
  add(repeats: (Float32Array | Float64Array)[], rows: number): void {
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

  /**
   * NSD noise ceiling given each voxel's variance over all trials (ddof 1, as NSD's z-scoring):
   * z-scoring divides by the voxel's SD, so the noise variance of z-scored betas is the mean
   * across-repeat variance over the total variance.
   */
  noiseCeiling(totalVariance: Float64Array, nAveraged: number): NoiseCeiling {
    const n = this.nVoxels;
    const noiseVariance = new Float64Array(n);
    const ncsnr = new Float64Array(n);
    const ncPercent = new Float64Array(n);
    let nUndefined = 0;
    for (let j = 0; j < n; j++) {
      const nv = this.sumVar[j] / this.stimuli / totalVariance[j];
      noiseVariance[j] = nv;
      ncsnr[j] = ncsnrFromNoiseVariance(nv);
      ncPercent[j] = ncPercentFromSnr(ncsnr[j], nAveraged);
      if (Number.isNaN(ncPercent[j])) nUndefined++;
    }
    return { ncsnr, noiseVariance, ncPercent, nAveraged, nUndefined };
  }
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}
