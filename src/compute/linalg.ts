// Float64 dense linear algebra on small matrices (d x d Gram matrices, d up to a few thousand),
// where accuracy matters more than throughput. The big products go through ONNX Runtime; these
// routines only ever see matrices whose side is the feature count.
import { ComputeError } from './errors';

// Module-level bindings: inside vm contexts (test runners) every global lookup is slow.
const { abs, hypot, max, sqrt } = Math;

/**
 * Householder reduction of a symmetric matrix to tridiagonal form, Q^T A Q = T.
 *
 * a : Float64Array of shape (n, n), row-major, symmetric; overwritten: row k holds the k-th
 *     Householder vector in columns k+1..n-1 (with an implicit 1 at k+1).
 * Returns the diagonal `d` (n), the off-diagonal `e` (n-1, e[k] = T[k, k+1]) and `tau` (n) of the
 * reflectors H_k = I - tau_k v_k v_k^T, Q = H_0 H_1 ... H_{n-3}.
 *
 * Only the lower triangle of the trailing block is updated (the symmetric rank-2 update), which
 * halves the arithmetic of a full update.
 */
export function tridiagonalize(a: Float64Array, n: number): { d: Float64Array; e: Float64Array; tau: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(max(n - 1, 0));
  const tau = new Float64Array(n);
  const p = new Float64Array(n);
  const v = new Float64Array(n);
  // Work on the lower triangle: column k below the diagonal is read from row entries a[i*n + k].
  for (let k = 0; k < n - 2; k++) {
    d[k] = a[k * n + k];
    const alpha = a[(k + 1) * n + k];
    let xnorm2 = 0;
    for (let i = k + 2; i < n; i++) xnorm2 += a[i * n + k] * a[i * n + k];
    if (xnorm2 === 0) {
      tau[k] = 0;
      e[k] = alpha;
      for (let i = k + 1; i < n; i++) a[k * n + i] = 0;
      continue;
    }
    const beta = -(alpha >= 0 ? 1 : -1) * sqrt(alpha * alpha + xnorm2);
    const t = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    v[k + 1] = 1;
    for (let i = k + 2; i < n; i++) v[i] = a[i * n + k] * scale;
    tau[k] = t;
    e[k] = beta;
    // p = t * A22 v using the lower triangle of A22 (rows i >= k+1, columns k+1..i).
    for (let i = k + 1; i < n; i++) p[i] = 0;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const vi = v[i];
      let s = 0;
      for (let j = k + 1; j < i; j++) {
        const aij = a[ri + j];
        s += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += s + a[ri + i] * vi;
    }
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      p[i] *= t;
      pv += p[i] * v[i];
    }
    const c = 0.5 * t * pv;
    for (let i = k + 1; i < n; i++) p[i] -= c * v[i];
    // A22 -= v p^T + p v^T (lower triangle).
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const vi = v[i];
      const pi = p[i];
      for (let j = k + 1; j <= i; j++) a[ri + j] -= vi * p[j] + pi * v[j];
    }
    // Store v in row k (upper part), which the lower-triangle algorithm no longer reads.
    for (let i = k + 1; i < n; i++) a[k * n + i] = v[i];
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 1) * n + n - 2];
  }
  if (n >= 1) d[n - 1] = a[(n - 1) * n + n - 1];
  return { d, e, tau };
}

/**
 * Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by the implicit QL method
 * (EISPACK tql2). `d` (n) is overwritten with eigenvalues in ascending order; `zt` (n, n) must hold
 * the identity (or any orthogonal start) and is overwritten so that row j is the eigenvector of
 * eigenvalue d[j]; pass null for eigenvalues only (O(n^2)). Rows rather than columns keep each rotation on two contiguous rows.
 */
export function tridiagonalEigen(d: Float64Array, eIn: Float64Array, zt: Float64Array | null, n: number): void {
  const e = new Float64Array(n);
  e.set(eIn.subarray(0, max(n - 1, 0)));
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = max(tst1, abs(d[l]) + abs(e[l]));
    let m = l;
    while (m < n) {
      if (abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m === n) m = n - 1;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new ComputeError('INVALID_ARGUMENT', 'tridiagonal QL did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (zt === null) continue;
          const ra = i * n;
          const rb = ra + n;
          for (let k = 0; k < n; k++) {
            const hk = zt[rb + k];
            const zk = zt[ra + k];
            zt[rb + k] = s * zk + c * hk;
            zt[ra + k] = c * zk - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // Sort ascending (selection sort on values, swapping vector rows).
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    for (let j = i + 1; j < n; j++) if (d[j] < d[k]) k = j;
    if (k !== i) {
      const tmp = d[k];
      d[k] = d[i];
      d[i] = tmp;
      if (zt === null) continue;
      const rowI = zt.slice(i * n, i * n + n);
      zt.copyWithin(i * n, k * n, k * n + n);
      zt.set(rowI, k * n);
    }
  }
}

/**
 * Applies Q = H_0 ... H_{n-3} (from `tridiagonalize`) to each row of `zt`: row j becomes (Q z_j)^T.
 * zt : (m, n) row-major; reflector k is stored in a[k, k+1:] with tau[k].
 */
export function applyReflectorsToRows(a: Float64Array, tau: Float64Array, n: number, zt: Float64Array, m: number): void {
  for (let row = 0; row < m; row++) {
    const z = row * n;
    for (let k = n - 3; k >= 0; k--) {
      const t = tau[k];
      if (t === 0) continue;
      const rk = k * n;
      let s = 0;
      for (let i = k + 1; i < n; i++) s += a[rk + i] * zt[z + i];
      s *= t;
      for (let i = k + 1; i < n; i++) zt[z + i] -= s * a[rk + i];
    }
  }
}

export interface SymmetricEigen {
  /** Eigenvalues, ascending, shape (n,). */
  values: Float64Array;
  /** Eigenvectors as rows: shape (n, n), row j is the unit eigenvector of values[j]. */
  vectorsT: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric matrix in float64 (Householder tridiagonalisation + implicit
 * QL). a : (n, n) row-major, symmetric (only the lower triangle is read); not modified.
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new ComputeError('SHAPE_MISMATCH', `expected ${n}x${n} matrix`);
  const work = Float64Array.from(a);
  const { d, e, tau } = tridiagonalize(work, n);
  const zt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) zt[i * n + i] = 1;
  tridiagonalEigen(d, e, zt, n);
  applyReflectorsToRows(work, tau, n, zt, n);
  return { values: d, vectorsT: zt };
}

export interface PivotedCholesky {
  /** Upper-trapezoidal factor, shape (rank, n), in pivoted column order: A[piv][:, piv] = R^T R. */
  r: Float64Array;
  /** Column order: piv[k] is the original index of pivoted column k. */
  piv: Int32Array;
  rank: number;
}

/**
 * Cholesky factorisation with diagonal pivoting of a symmetric positive semi-definite matrix,
 * stopping when the largest remaining pivot falls below `relTol` times the largest diagonal entry
 * (so rank-deficient Gram matrices, e.g. fewer validation samples than features, are exact).
 * a : (n, n) row-major; not modified.
 */
export function pivotedCholesky(a: Float64Array, n: number, relTol = 1e-13): PivotedCholesky {
  const w = Float64Array.from(a);
  const piv = new Int32Array(n);
  for (let i = 0; i < n; i++) piv[i] = i;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = max(maxDiag, w[i * n + i]);
  const tol = relTol * maxDiag;
  let rank = 0;
  // Row-oriented right-looking factorisation: after step k, row k of w (columns k..n-1) is R[k, :].
  for (let k = 0; k < n; k++) {
    let best = k;
    for (let i = k + 1; i < n; i++) if (w[i * n + i] > w[best * n + best]) best = i;
    if (!(w[best * n + best] > tol)) break;
    if (best !== k) swapSymmetric(w, n, k, best, piv);
    const rkk = sqrt(w[k * n + k]);
    const rk = k * n;
    w[rk + k] = rkk;
    const inv = 1 / rkk;
    for (let j = k + 1; j < n; j++) w[rk + j] *= inv;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const rki = w[rk + i];
      if (rki === 0) continue;
      // Full (both triangles) trailing update keeps pivot swaps simple.
      for (let j = k + 1; j < n; j++) w[ri + j] -= rki * w[rk + j];
    }
    rank++;
  }
  const r = new Float64Array(rank * n);
  for (let k = 0; k < rank; k++) for (let j = k; j < n; j++) r[k * n + j] = w[k * n + j];
  return { r, piv, rank };
}

/** Swaps rows/columns k and l of the symmetric work matrix (finished rows keep R's columns). */
function swapSymmetric(w: Float64Array, n: number, k: number, l: number, piv: Int32Array): void {
  // Swap full rows and full columns; only the trailing block (>= k) and the finished rows' columns
  // matter, but a full swap keeps the bookkeeping obvious.
  for (let j = 0; j < n; j++) {
    const t = w[k * n + j];
    w[k * n + j] = w[l * n + j];
    w[l * n + j] = t;
  }
  for (let i = 0; i < n; i++) {
    const t = w[i * n + k];
    w[i * n + k] = w[i * n + l];
    w[i * n + l] = t;
  }
  const t = piv[k];
  piv[k] = piv[l];
  piv[l] = t;
}
