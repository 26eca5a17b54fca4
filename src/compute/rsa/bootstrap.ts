// Bootstrap over stimuli for RDM comparisons. A resample draws n stimuli with replacement; its RDM
// holds, for every two draws of different stimuli u != v, the original dissimilarity d_uv, and
// drops the pairs of two draws of the same stimulus (their zero dissimilarity is an artefact of
// duplication, not a measurement), as rsatoolbox does. The resampled RDM is therefore the original
// upper triangle with pair (u, v) repeated c_u c_v times, c the draw counts; every statistic below
// is computed on that weighted triangle, exactly equal to expanding it, without forming it.
import { percentile } from '../stats';
import { Rng } from '../random';
import { lowerBound, type RankedRdm } from './compare';

/** Draw counts (n_boot, n) of seeded resamples of n stimuli with replacement. */
export function resampleCounts(n: number, nBoot: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const counts = new Float32Array(nBoot * n);
  for (let b = 0; b < nBoot; b++) for (let k = 0; k < n; k++) counts[b * n + rng.int(n)] += 1;
  return counts;
}

/** Pair weights c_u c_v in upper-triangle order for one resample's counts. */
export function pairWeights(counts: ArrayLike<number>, n: number, out = new Float64Array((n * (n - 1)) / 2)): Float64Array {
  let p = 0;
  for (let u = 0; u < n; u++) {
    const cu = counts[u];
    for (let v = u + 1; v < n; v++) out[p++] = cu * counts[v];
  }
  return out;
}

/** The pairs in ascending order of dissimilarity (ties in upper-triangle order). */
export function ascendingOrder(r: RankedRdm): Int32Array {
  const m = r.values.length;
  const key = new Float64Array(m);
  for (let i = 0; i < m; i++) key[i] = lowerBound(r.sorted, r.values[i]) * m + i;
  key.sort();
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = key[i] % m;
  return order;
}

/** Mid-ranks of the weighted triangle (a pair of weight w stands for w tied copies). */
export function weightedRanks(r: RankedRdm, order: Int32Array, w: Float64Array, out = new Float64Array(r.values.length)): Float64Array {
  const m = order.length;
  let below = 0;
  let i = 0;
  while (i < m) {
    const v = r.values[order[i]];
    let j = i;
    let group = 0;
    while (j < m && r.values[order[j]] === v) group += w[order[j++]];
    const mid = below + (group + 1) / 2;
    for (let k = i; k < j; k++) out[order[k]] = mid;
    below += group;
    i = j;
  }
  return out;
}

/** Pearson r of a and b over the weighted pairs. */
export function weightedPearson(a: ArrayLike<number>, b: ArrayLike<number>, w: Float64Array): number {
  let W = 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) continue;
    W += w[i];
    ma += w[i] * a[i];
    mb += w[i] * b[i];
  }
  ma /= W;
  mb /= W;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i];
    if (wi === 0) continue;
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += wi * da * db;
    saa += wi * da * da;
    sbb += wi * db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/**
 * What every resample's weighted tau-a of one pair of RDMs shares: the pairs ordered by (a, b)
 * (two stable counting sorts over the integer rank keys, O(m)), b's key in that order, and for
 * each position whether it ties the previous one in a (bit 1) or in both a and b (bit 2).
 */
export interface TauPlan {
  order: Int32Array;
  bKey: Int32Array;
  ties: Uint8Array;
}

export function tauPlan(aKeys: Int32Array, bKeys: Int32Array): TauPlan {
  const m = aKeys.length;
  const byB = countingSort(bKeys, null, m);
  const order = countingSort(aKeys, byB, m);
  const bKey = new Int32Array(m);
  const ties = new Uint8Array(m);
  for (let k = 0; k < m; k++) {
    const p = order[k];
    bKey[k] = bKeys[p];
    if (k > 0 && aKeys[p] === aKeys[order[k - 1]]) ties[k] = bKey[k] === bKey[k - 1] ? 3 : 1;
  }
  return { order, bKey, ties };
}

/** Indices 0..m-1 (or `input`'s order) stably sorted by keys in [0, m). */
function countingSort(keys: Int32Array, input: Int32Array | null, m: number): Int32Array {
  const start = new Int32Array(m + 1);
  for (let i = 0; i < m; i++) start[keys[i] + 1]++;
  for (let k = 0; k < m; k++) start[k + 1] += start[k];
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const p = input ? input[i] : i;
    out[start[keys[p]]++] = p;
  }
  return out;
}

/**
 * Reusable buffers of weightedTauA (two of keys and weights for the merge sort). Weights are
 * products of draw counts, integers far below 2^24, so float32 holds them exactly.
 */
export interface TauScratch {
  keys: [Int32Array, Int32Array];
  weights: [Float32Array, Float32Array];
}

export function tauScratch(m: number): TauScratch {
  return { keys: [new Int32Array(m), new Int32Array(m)], weights: [new Float32Array(m), new Float32Array(m)] };
}

/**
 * Kendall's tau-a of the weighted triangles (a pair of weight w stands for w copies; copies of one
 * pair tie in both and add nothing but their count), by Knight's algorithm with weights: walk the
 * pairs in (a, b) order, keeping those of nonzero weight; a weighted merge sort of b then counts
 * the discordant weight Q exactly (integer weights, float64 sums); with T the weight of pairs tied
 * in b and P_a the concordant weight of pairs tied in a (which the (a, b) order also puts first),
 * C - D = (W^2 - sum w^2) / 2 - T - 2 Q - P_a, over W (W - 1) / 2 pairs of copies.
 */
export function weightedTauA(plan: TauPlan, w: Float64Array, scratch = tauScratch(plan.order.length)): number {
  const { order, bKey, ties } = plan;
  const m = order.length;
  let [keys, other] = scratch.keys;
  let [weights, otherW] = scratch.weights;
  let n = 0;
  let W = 0;
  let sumSq = 0;
  // Within one a-group (sorted by b), the concordant weight is (G^2 - sum of its b-runs' S^2) / 2.
  let concordantTiedA = 0;
  let group = 0;
  let groupRunsSq = 0;
  let run = 0;
  for (let k = 0; k < m; k++) {
    const wk = w[order[k]];
    const t = ties[k];
    if (t !== 3) {
      groupRunsSq += run * run;
      run = 0;
      if (t === 0) {
        concordantTiedA += (group * group - groupRunsSq) / 2;
        group = 0;
        groupRunsSq = 0;
      }
    }
    if (wk === 0) continue;
    run += wk;
    group += wk;
    keys[n] = bKey[k];
    weights[n] = wk;
    n++;
    W += wk;
    sumSq += wk * wk;
  }
  groupRunsSq += run * run;
  concordantTiedA += (group * group - groupRunsSq) / 2;

  // Bottom-up merge sort of b's keys carrying weights; Q = sum over inversions of w_i w_j.
  let discordant = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let left = 0;
      for (let i = lo; i < mid; i++) left += weights[i];
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (keys[i] <= keys[j]) {
          left -= weights[i];
          other[k] = keys[i];
          otherW[k++] = weights[i++];
        } else {
          // Every pair still waiting on the left has a greater b than pair j.
          discordant += weights[j] * left;
          other[k] = keys[j];
          otherW[k++] = weights[j++];
        }
      }
      while (i < mid) {
        other[k] = keys[i];
        otherW[k++] = weights[i++];
      }
      while (j < hi) {
        other[k] = keys[j];
        otherW[k++] = weights[j++];
      }
    }
    [keys, other] = [other, keys];
    [weights, otherW] = [otherW, weights];
  }
  // Pairs tied in b, from the runs of equal keys of the sorted b.
  let tiedB = 0;
  for (let i = 0; i < n; ) {
    let s = 0;
    let sq = 0;
    let j = i;
    for (; j < n && keys[j] === keys[i]; j++) {
      s += weights[j];
      sq += weights[j] * weights[j];
    }
    tiedB += (s * s - sq) / 2;
    i = j;
  }
  const distinctPairs = (W * W - sumSq) / 2;
  return (distinctPairs - tiedB - 2 * discordant - concordantTiedA) / ((W * (W - 1)) / 2);
}

/** 95% percentile interval (numpy's linear interpolation); NaN resamples are left out. */
export function percentileInterval(values: ArrayLike<number>): [number, number] {
  return [percentile(values, 0.025), percentile(values, 0.975)];
}
