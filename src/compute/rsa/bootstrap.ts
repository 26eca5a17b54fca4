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
 * Kendall's tau-a of the weighted triangles: pairs taken in ascending order of a, each compared
 * with the already-seen pairs of strictly smaller a through a Fenwick tree of weights over b's
 * rank keys (O(m log m)). Copies of one pair tie in both and add nothing but their count.
 */
export function weightedTauA(a: RankedRdm, aOrder: Int32Array, b: RankedRdm, bKeys: Int32Array, w: Float64Array, tree = new Float64Array(bKeys.length + 1)): number {
  const m = aOrder.length;
  tree.fill(0);
  let added = 0;
  let cMinusD = 0;
  let i = 0;
  while (i < m) {
    const v = a.values[aOrder[i]];
    let j = i;
    while (j < m && a.values[aOrder[j]] === v) j++;
    for (let k = i; k < j; k++) {
      const p = aOrder[k];
      const wp = w[p];
      if (wp === 0) continue;
      const key = bKeys[p];
      const less = prefix(tree, key);
      const notGreater = prefix(tree, key + 1);
      cMinusD += wp * (less - (added - notGreater));
    }
    for (let k = i; k < j; k++) {
      const p = aOrder[k];
      if (w[p] === 0) continue;
      add(tree, bKeys[p], w[p]);
      added += w[p];
    }
    i = j;
  }
  return cMinusD / ((added * (added - 1)) / 2);
}

/** Rank keys of b for weightedTauA: each value's first position in the sorted copy. */
export function rankKeys(r: RankedRdm): Int32Array {
  const keys = new Int32Array(r.values.length);
  for (let i = 0; i < keys.length; i++) keys[i] = lowerBound(r.sorted, r.values[i]);
  return keys;
}

/** Sum of weights with key < k. */
function prefix(tree: Float64Array, k: number): number {
  let s = 0;
  for (let i = k; i > 0; i -= i & -i) s += tree[i];
  return s;
}

function add(tree: Float64Array, key: number, w: number): void {
  for (let i = key + 1; i < tree.length; i += i & -i) tree[i] += w;
}

/** 95% percentile interval (numpy's linear interpolation); NaN resamples are left out. */
export function percentileInterval(values: ArrayLike<number>): [number, number] {
  return [percentile(values, 0.025), percentile(values, 0.975)];
}
