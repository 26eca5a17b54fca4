// Comparing two RDMs by their upper triangles: Pearson r, Spearman's rho (Pearson r of mid-ranks,
// ties averaged, as scipy.stats.spearmanr) and Kendall's tau-a (rsatoolbox's choice when models
// predict ties: (concordant - discordant) / all pairs, ties counting in the denominator).
//
// Memory for m pairs: each RDM is held once (float32) plus one sorted float32 copy per RDM
// (`RankedRdm.sorted`); ranks are never stored but looked up by binary search in the sorted copy.
// Kendall's tau-a additionally holds, while it runs, a float64 sort key per pair and two int32
// vectors (8 m + 8 m bytes), released when it returns.
import { check } from '../errors';

/** An RDM's upper triangle with its sorted copy, prepared once and compared with many others. */
export interface RankedRdm {
  values: Float32Array;
  sorted: Float32Array;
}

export function rankRdm(values: Float32Array): RankedRdm {
  for (let i = 0; i < values.length; i++) check(!Number.isNaN(values[i]), 'NON_FINITE_INPUT', 'an RDM with undefined (NaN) dissimilarities cannot be compared');
  const sorted = Float32Array.from(values).sort();
  return { values, sorted };
}

/** First position in sorted with sorted[pos] >= x. */
export function lowerBound(sorted: Float32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(sorted: Float32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** 1-based mid-rank of x among the sorted values (ties share the average of their ranks). */
export function midRank(sorted: Float32Array, x: number): number {
  return (lowerBound(sorted, x) + upperBound(sorted, x) + 1) / 2;
}

/** Pearson r of two equally long vectors (float64 accumulation). */
export function pearsonR(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a.length === b.length && a.length >= 2, 'SHAPE_MISMATCH', 'RDMs to compare must have the same stimuli');
  const m = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < m; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= m;
  mb /= m;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < m; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Spearman's rho: Pearson r of the two RDMs' mid-ranks. */
export function spearmanRho(a: RankedRdm, b: RankedRdm): number {
  return spearmanFromKeys(rdmKeys(a), rdmKeys(b));
}

/**
 * Kendall's tau-a by Knight's O(m log m) algorithm: sort the pairs by (a, b), count the pairs tied
 * in a, tied in both and tied in b, then count discordant pairs as the swaps a merge sort of b
 * makes. (C - D) = n0 - n1 - n2 + n3 - 2 swaps, tau-a = (C - D) / n0 with n0 = m (m - 1) / 2.
 */
export function kendallTauA(a: RankedRdm, b: RankedRdm): number {
  return kendallTauAFromKeys(rdmKeys(a), rdmKeys(b));
}

/** Sum over runs of equal values of t (t - 1) / 2. */
function tiedPairs(sorted: Float32Array): number {
  let ties = 0;
  let run = 1;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) run++;
    else {
      ties += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  return ties + (run * (run - 1)) / 2;
}

/** Strict inversions of y (pairs i < j with y[i] > y[j]), counted by a bottom-up merge sort. */
function mergeSortSwaps(y: Int32Array<ArrayBuffer>): number {
  const m = y.length;
  let src: Int32Array<ArrayBuffer> = y;
  let dst: Int32Array<ArrayBuffer> = new Int32Array(m);
  let swaps = 0;
  for (let width = 1; width < m; width *= 2) {
    for (let lo = 0; lo < m; lo += 2 * width) {
      const mid = Math.min(lo + width, m);
      const hi = Math.min(lo + 2 * width, m);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (src[i] <= src[j]) dst[k++] = src[i++];
        else {
          // Every element still waiting on the left is greater than src[j].
          swaps += mid - i;
          dst[k++] = src[j++];
        }
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    [src, dst] = [dst, src];
  }
  return swaps;
}

export type RdmComparison = 'spearman' | 'kendall_tau_a' | 'pearson';

export function compareRdms(method: RdmComparison, a: RankedRdm, b: RankedRdm): number {
  if (method === 'spearman') return spearmanRho(a, b);
  if (method === 'kendall_tau_a') return kendallTauA(a, b);
  return pearsonR(a.values, b.values);
}

/**
 * An RDM's integer rank keys (each value's first position in its sorted copy), computed once when
 * one RDM is compared with many: Spearman and tau-a then need no binary search per comparison.
 */
export interface RdmKeys {
  keys: Int32Array;
  /** Sum over runs of tied values of t (t - 1) / 2. */
  tiedPairs: number;
  ranked: RankedRdm;
}

export function rdmKeys(r: RankedRdm): RdmKeys {
  const m = r.values.length;
  const keys = new Int32Array(m);
  for (let i = 0; i < m; i++) keys[i] = lowerBound(r.sorted, r.values[i]);
  return { keys, tiedPairs: tiedPairs(r.sorted), ranked: r };
}

/** Mid-rank of pair i from its key: first position plus half the run of equal values. */
function midRankAt(k: RdmKeys, i: number): number {
  const key = k.keys[i];
  const v = k.ranked.sorted[key];
  let end = key + 1;
  while (end < k.keys.length && k.ranked.sorted[end] === v) end++;
  return (key + end + 1) / 2;
}

/** spearmanRho from precomputed keys (the mean mid-rank is (m + 1) / 2 whatever the ties). */
export function spearmanFromKeys(a: RdmKeys, b: RdmKeys): number {
  const m = a.keys.length;
  check(b.keys.length === m && m >= 2, 'SHAPE_MISMATCH', 'RDMs to compare must have the same stimuli');
  const mean = (m + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < m; i++) {
    const ra = midRankAt(a, i) - mean;
    const rb = midRankAt(b, i) - mean;
    sab += ra * rb;
    saa += ra * ra;
    sbb += rb * rb;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/**
 * kendallTauA from precomputed keys. Sorting key_a * m + key_b (exact in float64 for m < 2^26)
 * orders the pairs by (a, b).
 */
export function kendallTauAFromKeys(a: RdmKeys, b: RdmKeys): number {
  const m = a.keys.length;
  check(b.keys.length === m && m >= 2, 'SHAPE_MISMATCH', 'RDMs to compare must have the same stimuli');
  const combined = new Float64Array(m);
  for (let i = 0; i < m; i++) combined[i] = a.keys[i] * m + b.keys[i];
  combined.sort();
  let tiesA = 0;
  let tiesAB = 0;
  let runA = 1;
  let runAB = 1;
  const y = new Int32Array(m);
  y[0] = combined[0] % m;
  for (let i = 1; i < m; i++) {
    y[i] = combined[i] % m;
    if (Math.floor(combined[i] / m) === Math.floor(combined[i - 1] / m)) runA++;
    else {
      tiesA += (runA * (runA - 1)) / 2;
      runA = 1;
    }
    if (combined[i] === combined[i - 1]) runAB++;
    else {
      tiesAB += (runAB * (runAB - 1)) / 2;
      runAB = 1;
    }
  }
  tiesA += (runA * (runA - 1)) / 2;
  tiesAB += (runAB * (runAB - 1)) / 2;
  const swaps = mergeSortSwaps(y);
  const n0 = (m * (m - 1)) / 2;
  return (n0 - tiesA - b.tiedPairs + tiesAB - 2 * swaps) / n0;
}
