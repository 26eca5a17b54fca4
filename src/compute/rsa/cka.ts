// Centred kernel alignment between a model's features X (n, d) and responses Y (n, v), both centred
// over stimuli, computed from the linear Gram matrices K = X X^T and L = Y Y^T (n x n, float32,
// products in the engine) so no RDM is needed and d, v can be any width.
//   linear CKA   = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)),  HSIC(K, L) = tr(K H L H)
//                  which equals ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) for centred X, Y;
//   debiased CKA = the same ratio of Song et al.'s unbiased HSIC estimator (needs n >= 4):
//     HSIC_1 = [tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n (n-3)),
//     K~, L~ the Grams with a zero diagonal.
// Both are written for stimulus weights c (how often each stimulus appears in a bootstrap
// resample; all ones for the estimate itself): every term is a sum over the expanded matrix,
// reduced to products with c, so a resample never materialises its n x n Gram.
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
 * was drawn. Exactly the CKA of the resampled (row-duplicated) matrices. Returns values per
 * resample for every pair (kernels[a], kernels[b]) asked for, as { linear, debiased } arrays.
 */
export async function ckaBootstrap(
  engine: Engine,
  left: Gram[],
  right: Gram[],
  counts: Matrix<Float32Array>,
): Promise<{ linear: Float64Array; debiased: Float64Array }[][]> {
  const n = counts.cols;
  const B = counts.rows;
  const all = [...left, ...right];
  for (const g of all) check(g.n === n, 'SHAPE_MISMATCH', 'CKA bootstrap: every Gram must cover the resampled stimuli');
  // Gc : (B, n) = counts @ G for every Gram (G symmetric), and the weighted diagonals.
  const gc = await Promise.all(all.map((g) => gemm(engine, counts, matrix(g.data, n, n))));
  const self = await Promise.all(all.map((g, idx) => selfTerms(engine, g, gc[idx].data, counts)));
  const out: { linear: Float64Array; debiased: Float64Array }[][] = [];
  for (let a = 0; a < left.length; a++) {
    const row: { linear: Float64Array; debiased: Float64Array }[] = [];
    for (let b = 0; b < right.length; b++) {
      const K = left[a];
      const L = right[b];
      const KL = new Float32Array(n * n);
      for (let t = 0; t < n * n; t++) KL[t] = K.data[t] * L.data[t];
      const klc = await gemm(engine, counts, matrix(KL, n, n));
      const Kc = gc[a].data;
      const Lc = gc[left.length + b].data;
      const linear = new Float64Array(B);
      const debiased = new Float64Array(B);
      for (let s = 0; s < B; s++) {
        const terms = pairTerms(K, L, Kc, Lc, klc.data, counts, s);
        const v = ckaFromTerms(terms, self[a][s], self[left.length + b][s]);
        linear[s] = v.linear;
        debiased[s] = v.debiased;
      }
      row.push({ linear, debiased });
    }
    out.push(row);
  }
  return out;
}

function pairTerms(K: Gram, L: Gram, Kc: Float32Array, Lc: Float32Array, KLc: Float32Array, counts: Matrix<Float32Array>, s: number): HsicTerms {
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
  let total = 0;
  const off = s * n;
  for (let u = 0; u < n; u++) {
    const c = counts.data[off + u];
    if (c === 0) continue;
    const ku = K.data[u * n + u];
    const lu = L.data[u * n + u];
    kl += c * KLc[off + u];
    kcLc += c * Kc[off + u] * Lc[off + u];
    k += c * Kc[off + u];
    l += c * Lc[off + u];
    diagKL += c * ku * lu;
    diagK += c * ku;
    diagL += c * lu;
    diagKLc += c * ku * Lc[off + u];
    diagLKc += c * lu * Kc[off + u];
    total += c;
  }
  return { kl, kcLc, k, l, diagKL, diagK, diagL, diagKLc, diagLKc, total };
}

async function selfTerms(engine: Engine, G: Gram, gc: Float32Array, counts: Matrix<Float32Array>): Promise<HsicTerms[]> {
  const n = G.n;
  // sum_uv c_u c_v G_uv^2 needs (G o G) c: one more product per Gram.
  const sq = new Float32Array(n * n);
  for (let t = 0; t < n * n; t++) sq[t] = G.data[t] * G.data[t];
  const sqc = await gemm(engine, counts, matrix(sq, n, n));
  const out: HsicTerms[] = [];
  for (let s = 0; s < counts.rows; s++) out.push(pairTerms(G, G, gc, gc, sqc.data, counts, s));
  return out;
}
