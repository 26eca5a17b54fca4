// Split-half reliability per voxel, as Brain-Score and Algonauts normalise: for each split of the
// repeats into two halves, correlate (Pearson, across stimuli) the mean over one half with the
// mean over the other, average r over the splits, then correct for halving with Spearman-Brown
// r_full = 2 r / (1 + r). Streams over stimuli: per split and voxel five running sums.
import { Rng } from './random';

/**
 * `nSplits` random splits of `nRepeats` repeats: each split lists the repeats of its first half,
 * floor(nRepeats / 2) of them (the second half is the rest; with 3 repeats, 1 against 2). Splits
 * are drawn without repetition while distinct halves remain (with 3 repeats there are only 3).
 */
export function drawSplits(nRepeats: number, nSplits: number, seed: number): number[][] {
  if (nRepeats < 2) throw new RangeError('split-half reliability needs at least 2 repeats');
  const half = Math.floor(nRepeats / 2);
  const rng = new Rng(seed);
  const splits: number[][] = [];
  const seen = new Set<string>();
  const distinct = binomial(nRepeats, half);
  for (let attempt = 0; splits.length < nSplits && attempt < 100 * nSplits; attempt++) {
    const order = Array.from({ length: nRepeats }, (_, i) => i);
    for (let i = nRepeats - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const first = order.slice(0, half).sort((a, b) => a - b);
    const key = first.join();
    if (seen.has(key) && seen.size < distinct) continue;
    seen.add(key);
    splits.push(first);
  }
  return splits;
}

function binomial(n: number, k: number): number {
  let out = 1;
  for (let i = 1; i <= k; i++) out = (out * (n - k + i)) / i;
  return out;
}

export class SplitHalfAccumulator {
  private readonly sums: Float64Array;
  /** The distinct first halves, each once (with few repeats most draws repeat one). */
  private readonly halves: number[][];
  private readonly others: number[][];
  /** How many of the given splits each distinct half stands for: r is averaged with these weights. */
  private readonly weights: number[];
  private stimuli = 0;

  /** `splits[s]`: the repeats of split s's first half (see drawSplits). */
  constructor(readonly nVoxels: number, readonly nRepeats: number, readonly splits: number[][]) {
    if (splits.length === 0) throw new RangeError('at least one split is needed');
    const index = new Map<string, number>();
    this.halves = [];
    this.weights = [];
    for (const first of splits) {
      if (first.length === 0 || first.length >= nRepeats || first.some((r) => r < 0 || r >= nRepeats))
        throw new RangeError(`split [${first.join(', ')}] is not a proper subset of ${nRepeats} repeats`);
      const key = [...first].sort((a, b) => a - b).join();
      const at = index.get(key);
      if (at !== undefined) this.weights[at]++;
      else {
        index.set(key, this.halves.length);
        this.halves.push(first);
        this.weights.push(1);
      }
    }
    this.others = this.halves.map((first) => Array.from({ length: nRepeats }, (_, r) => r).filter((r) => !first.includes(r)));
    this.sums = new Float64Array(5 * this.halves.length * nVoxels);
  }

  /** repeats[r]: (rows, n_voxels) row-major for repeat r, the same stimuli in every repeat. */
  add(repeats: ArrayLike<number>[], rows: number): void {
    const V = this.nVoxels;
    const sums = this.sums;
    for (let p = 0; p < this.halves.length; p++) {
      const a = this.halves[p];
      const b = this.others[p];
      const base = 5 * p * V;
      for (let s = 0; s < rows; s++) {
        const off = s * V;
        for (let j = 0; j < V; j++) {
          let ma = 0;
          for (const r of a) ma += repeats[r][off + j];
          ma /= a.length;
          let mb = 0;
          for (const r of b) mb += repeats[r][off + j];
          mb /= b.length;
          const k = base + 5 * j;
          sums[k] += ma;
          sums[k + 1] += mb;
          sums[k + 2] += ma * ma;
          sums[k + 3] += mb * mb;
          sums[k + 4] += ma * mb;
        }
      }
    }
    this.stimuli += rows;
  }

  /** Mean r over splits and its Spearman-Brown correction; NaN where a half-mean is constant. */
  result(): { r: Float64Array; spearmanBrown: Float64Array } {
    const V = this.nVoxels;
    const n = this.stimuli;
    const r = new Float64Array(V);
    for (let p = 0; p < this.halves.length; p++) {
      const base = 5 * p * V;
      const w = this.weights[p];
      for (let j = 0; j < V; j++) {
        const k = base + 5 * j;
        const [sa, sb, saa, sbb, sab] = [this.sums[k], this.sums[k + 1], this.sums[k + 2], this.sums[k + 3], this.sums[k + 4]];
        const cov = sab - (sa * sb) / n;
        const va = saa - (sa * sa) / n;
        const vb = sbb - (sb * sb) / n;
        r[j] += va > 0 && vb > 0 ? (w * cov) / Math.sqrt(va * vb) : NaN;
      }
    }
    const spearmanBrown = new Float64Array(V);
    for (let j = 0; j < V; j++) {
      r[j] /= this.splits.length;
      spearmanBrown[j] = (2 * r[j]) / (1 + r[j]);
    }
    return { r, spearmanBrown };
  }
}
