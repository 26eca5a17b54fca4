// Centred kernel alignment between a model's features X (n, d) and responses Y (n, v), both centred
// over stimuli, computed from the linear Gram matrices K = X X^T and L = Y Y^T (n x n, float32,
// products in the engine) so no RDM is needed and d, v can be any width.
//   linear CKA   = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)),  HSIC(K, L) = tr(K H L H)
//                  which equals ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) for centred X, Y;
//   debiased CKA = the same ratio of Song et al.'s unbiased HSIC estimator (needs n >= 4):
//     HSIC_1 = [tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n (n-3)),
//     K~, L~ the Grams with a zero diagonal.
// Bootstrap resamples (ckaBootstrap) are written for draw counts c, with the Gram entries that pair
// a draw with a copy of its own stimulus left out (as the RDM bootstrap leaves out those pairs):
// every term is a sum over the expanded matrix, reduced to products with c and c^2, so a resample
// never materialises its n x n Gram.
import { check } from '../errors';
import { gemm, matrix, type Engine, type Matrix } from '../onnx';

/** A stimulus-by-stimulus linear Gram matrix, (n, n) row-major. */
export interface Gram {
  data: Float32Array;
  n: number;
}

/** Centres the columns of X over stimuli and returns X X^T. X : (n, d). */
export async function centredGram(engine: Engine, x: Matrix<Float32Array>): Promise<Gram> {
  const { rows: n, cols: d } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const c = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) c[i * d + j] = x.data[i * d + j] - mean[j];
  const g = await gemm(engine, matrix(c, n, d), matrix(c, n, d), { transB: true });
  return { data: g.data, n };
}

/** The terms of HSIC for one pair of Grams and one stimulus weighting. */
interface HsicTerms {
  /** sum_uv c_u c_v K_uv L_uv */
  kl: number;
  /** sum_u c_u (Kc)_u (Lc)_u */
  kcLc: number;
  /** c'Kc, c'Lc */
  k: number;
  l: number;
  /** sum_u c_u K_uu L_uu, sum_u c_u K_uu, sum_u c_u L_uu */
  diagKL: number;
  diagK: number;
  diagL: number;
  /** sum_u c_u K_uu (Lc)_u and sum_u c_u L_uu (Kc)_u */
  diagKLc: number;
  diagLKc: number;
  /** sum c */
  total: number;
}

function hsicBiased(t: HsicTerms): number {
  const N = t.total;
  return t.kl - (2 / N) * t.kcLc + (t.k * t.l) / (N * N);
}

function hsicUnbiased(t: HsicTerms): number {
  const N = t.total;
  const trace = t.kl - t.diagKL;
  const sumK = t.k - t.diagK;
  const sumL = t.l - t.diagL;
  // 1' K~ L~ 1 = sum_u c_u ((Kc)_u - K_uu) ((Lc)_u - L_uu)
  const cross = t.kcLc - t.diagKLc - t.diagLKc + t.diagKL;
  return (trace + (sumK * sumL) / ((N - 1) * (N - 2)) - (2 / (N - 2)) * cross) / (N * (N - 3));
}

export interface CkaValues {
  linear: number;
  debiased: number;
}

function ckaFromTerms(kl: HsicTerms, kk: HsicTerms, ll: HsicTerms): CkaValues {
  const linear = hsicBiased(kl) / Math.sqrt(hsicBiased(kk) * hsicBiased(ll));
  const ukk = hsicUnbiased(kk);
  const ull = hsicUnbiased(ll);
  // The unbiased self-similarity can come out <= 0 on tiny or degenerate data: undefined then.
  const debiased = kk.total >= 4 && ukk > 0 && ull > 0 ? hsicUnbiased(kl) / Math.sqrt(ukk * ull) : NaN;
  return { linear, debiased };
}

function termsAllOnes(K: Gram, L: Gram, kRow: Float64Array, lRow: Float64Array): HsicTerms {
  const n = K.n;
  let kl = 0;
  let kcLc = 0;
  let k = 0;
  let l = 0;
  let diagKL = 0;
  let diagK = 0;
  let diagL = 0;
  let diagKLc = 0;
  let diagLKc = 0;
  for (let u = 0; u < n; u++) {
    const off = u * n;
    for (let v = 0; v < n; v++) kl += K.data[off + v] * L.data[off + v];
    kcLc += kRow[u] * lRow[u];
    k += kRow[u];
    l += lRow[u];
    const ku = K.data[off + u];
    const lu = L.data[off + u];
    diagKL += ku * lu;
    diagK += ku;
    diagL += lu;
    diagKLc += ku * lRow[u];
    diagLKc += lu * kRow[u];
  }
  return { kl, kcLc, k, l, diagKL, diagK, diagL, diagKLc, diagLKc, total: n };
}

function rowSums(G: Gram): Float64Array {
  const out = new Float64Array(G.n);
  for (let u = 0; u < G.n; u++) {
    let s = 0;
    for (let v = 0; v < G.n; v++) s += G.data[u * G.n + v];
    out[u] = s;
  }
  return out;
}

/** Linear and debiased CKA of two Grams over the same stimuli. */
export function cka(K: Gram, L: Gram): CkaValues {
  check(K.n === L.n, 'SHAPE_MISMATCH', 'CKA needs Grams over the same stimuli');
  const kr = rowSums(K);
  const lr = rowSums(L);
  return ckaFromTerms(termsAllOnes(K, L, kr, lr), termsAllOnes(K, K, kr, kr), termsAllOnes(L, L, lr, lr));
}

/**
 * CKA on bootstrap resamples of the stimuli, given as counts (n_boot, n): how often each stimulus
 * was drawn. A resample is the multiset of n draws; like the RDM bootstrap (./bootstrap), it never
 * pairs a draw with a copy of the same stimulus, whose Gram entry K_uu would otherwise count as an
 * aligned off-diagonal pair and inflate CKA. The rule, on the expanded draws i, j with stimuli s_i:
 *   linear CKA   HSIC_0 = sum over kept entries (i = j, or s_i != s_j) of (H K_r H)_ij (H L_r H)_ij,
 *                K_r the resample's Gram centred over its draws; on the unique stimuli: pair weights
 *                c_u c_v off the diagonal and c_u (not c_u^2) on it;
 *   debiased CKA HSIC_1 = the U-statistic of Song et al.'s kernel h(i, j, q, r) over the 4-tuples of
 *                draws of four different stimuli, i.e. the weighted sums over distinct (u, v, q, r)
 *                with weights c_u c_v c_q c_r of K_uv L_uv + K_uv L_qr - 2 K_uv L_uq, normalised by
 *                the weight of all such tuples (with all c = 1 it is the estimate's HSIC_1).
 * Both reduce, by inclusion-exclusion over coinciding stimuli, to products of the Grams (and of
 * K o L, K o K, L o L) with c and c^2 (engine gemms over blocks of resamples, so memory stays
 * O(n^2 + block n)) and O(n) sums per resample. Returns values per resample for every pair
 * (left[a], right[b]).
 */
export async function ckaBootstrap(
  engine: Engine,
  left: Gram[],
  right: Gram[],
  counts: Matrix<Float32Array>,
  options: { blockBytes?: number } = {},
): Promise<{ linear: Float64Array; debiased: Float64Array }[][]> {
  const n = counts.cols;
  const B = counts.rows;
  for (const g of [...left, ...right]) check(g.n === n, 'SHAPE_MISMATCH', 'CKA bootstrap: every Gram must cover the resampled stimuli');
  // Resamples per block: the block's [c; c^2] rows and five products of them stay within blockBytes.
  const block = Math.max(1, Math.min(B, Math.floor((options.blockBytes ?? 64 * 2 ** 20) / (12 * 4 * n))));
  const hadamard = (K: Gram, L: Gram) => {
    const out = new Float32Array(n * n);
    for (let t = 0; t < n * n; t++) out[t] = K.data[t] * L.data[t];
    return matrix(out, n, n);
  };
  const diag = (G: Gram) => {
    const d = new Float64Array(n);
    for (let u = 0; u < n; u++) d[u] = G.data[u * n + u];
    return d;
  };
  const squares = new Map<Gram, Matrix<Float32Array>>();
  const squareOf = (G: Gram) => {
    if (!squares.has(G)) squares.set(G, hadamard(G, G));
    return squares.get(G)!;
  };
  const out: { linear: Float64Array; debiased: Float64Array }[][] = [];
  for (const K of left) {
    const row: { linear: Float64Array; debiased: Float64Array }[] = [];
    for (const L of right) {
      const KL = hadamard(K, L);
      const [KK, LL] = [squareOf(K), squareOf(L)];
      const [dK, dL] = [diag(K), diag(L)];
      const linear = new Float64Array(B);
      const debiased = new Float64Array(B);
      for (let s0 = 0; s0 < B; s0 += block) {
        const b = Math.min(block, B - s0);
        // Rows 0..b-1: the counts c; rows b..2b-1: c^2 (products with symmetric matrices).
        const w = new Float32Array(2 * b * n);
        for (let t = 0; t < b * n; t++) {
          const c = counts.data[s0 * n + t];
          w[t] = c;
          w[b * n + t] = c * c;
        }
        const wm = matrix(w, 2 * b, n);
        const [Kw, Lw, KLw, KKw, LLw] = await Promise.all([K, L].map((g) => gemm(engine, wm, matrix(g.data, n, n))).concat([KL, KK, LL].map((h) => gemm(engine, wm, h))));
        for (let s = 0; s < b; s++) {
          const v = { c: counts.data.subarray((s0 + s) * n, (s0 + s + 1) * n), off: s * n, off2: (b + s) * n };
          const kl = resampleHsic(v, dK, dL, Kw.data, Lw.data, KLw.data);
          const kk = resampleHsic(v, dK, dK, Kw.data, Kw.data, KKw.data);
          const ll = resampleHsic(v, dL, dL, Lw.data, Lw.data, LLw.data);
          linear[s0 + s] = kl.biased / Math.sqrt(kk.biased * ll.biased);
          debiased[s0 + s] = kk.unbiased > 0 && ll.unbiased > 0 ? kl.unbiased / Math.sqrt(kk.unbiased * ll.unbiased) : NaN;
        }
      }
      row.push({ linear, debiased });
    }
    out.push(row);
  }
  return out;
}

/**
 * HSIC_0 (copy entries masked) and HSIC_1 (tuples of distinct stimuli) of one resample, from
 * Kw = [Kc; Kc^2], Lw, KLw = [(K o L) c; (K o L) c^2] (rows at off and off2) and the diagonals.
 * With K~, L~ the zero-diagonal Grams, a = K~c, b = L~c, m = (K~ o L~) c and A_pq = sum_uv
 * c_u^p c_v^q (K~ o L~)_uv, the sums over distinct stimuli are
 *   C   = sum_{u,v,q distinct} c_u c_v c_q K~_uv L~_uq     = sum c a b - A_21,
 *   C_u = the same with c_u^2 (the shared stimulus)        = sum c^2 a b - A_22,
 *   C_v = with c_v^2 = sum c (K~c^2) b - A_31,  C_q = with c_q^2 = sum c a (L~c^2) - A_31,
 *   D   = sum_{distinct 4} c c c c K~_uv L~_qr              = (c'K~c)(c'L~c) - 4 C_u - 2 A_22,
 * and, each pair/triple summed against the weight of the stimuli left for the rest of the tuple,
 *   T1 = (S1^2 - S2) A_11 - 4 S1 A_21 + 4 A_31 + 2 A_22,   T3 = S1 C - C_u - C_v - C_q,
 *   HSIC_1 = (T1 + D - 2 T3) / (S1^4 - 6 S1^2 S2 + 3 S2^2 + 8 S1 S3 - 6 S4),  S_p = sum c^p.
 */
function resampleHsic(
  v: { c: Float32Array; off: number; off2: number },
  dK: Float64Array,
  dL: Float64Array,
  Kw: Float32Array,
  Lw: Float32Array,
  KLw: Float32Array,
): { biased: number; unbiased: number } {
  const { c: cs, off, off2 } = v;
  const n = cs.length;
  let S1 = 0, S2 = 0, S3 = 0, S4 = 0;
  let kl = 0, kcLc = 0, k = 0, l = 0;
  let A11 = 0, A21 = 0, A31 = 0, A22 = 0;
  let cab = 0, c2ab = 0, ca2b = 0, cab2 = 0, ka = 0, lb = 0;
  for (let u = 0; u < n; u++) {
    const c = cs[u];
    if (c === 0) continue;
    const c2 = c * c;
    const kc = Kw[off + u];
    const lc = Lw[off + u];
    const dk = dK[u];
    const dl = dL[u];
    const dkl = dk * dl;
    S1 += c;
    S2 += c2;
    S3 += c2 * c;
    S4 += c2 * c2;
    kl += c * KLw[off + u];
    kcLc += c * kc * lc;
    k += c * kc;
    l += c * lc;
    const a = kc - c * dk;
    const b = lc - c * dl;
    const a2 = Kw[off2 + u] - c2 * dk;
    const b2 = Lw[off2 + u] - c2 * dl;
    const m = KLw[off + u] - c * dkl;
    const m2 = KLw[off2 + u] - c2 * dkl;
    A11 += c * m;
    A21 += c2 * m;
    A31 += c2 * c * m;
    A22 += c2 * m2;
    cab += c * a * b;
    c2ab += c2 * a * b;
    ca2b += c * a2 * b;
    cab2 += c * a * b2;
    ka += c * a;
    lb += c * b;
  }
  // Linear: the centred expanded Grams' inner product, less the copy entries' (c_u^2 - c_u) K^c_uu L^c_uu.
  const N = S1;
  let copies = 0;
  for (let u = 0; u < n; u++) {
    const c = cs[u];
    if (c <= 1) continue;
    const kd = dK[u] - (2 * Kw[off + u]) / N + k / (N * N);
    const ld = dL[u] - (2 * Lw[off + u]) / N + l / (N * N);
    copies += (c * c - c) * kd * ld;
  }
  const biased = kl - (2 / N) * kcLc + (k * l) / (N * N) - copies;
  const C = cab - A21;
  const Cu = c2ab - A22;
  const Cv = ca2b - A31;
  const Cq = cab2 - A31;
  const D = ka * lb - 4 * Cu - 2 * A22;
  const T1 = (S1 * S1 - S2) * A11 - 4 * S1 * A21 + 4 * A31 + 2 * A22;
  const T3 = S1 * C - Cu - Cv - Cq;
  const tuples = S1 ** 4 - 6 * S1 * S1 * S2 + 3 * S2 * S2 + 8 * S1 * S3 - 6 * S4;
  return { biased, unbiased: tuples > 0 ? (T1 + D - 2 * T3) / tuples : NaN };
}
