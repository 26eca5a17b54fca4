// Cholesky factorisation with diagonal pivoting for positive semi-definite float64 matrices: the
// unblocked JavaScript routine for small matrices, and a blocked one whose trailing updates
// (n^3/3 multiply-adds) are engine products while JavaScript only does the O(n^2 * panel) in-panel
// work (LAPACK dpstrf's structure).
import { ComputeError } from './errors';
import type { Engine } from './onnx/engine';
import { GraphBuilder, type Graph } from './onnx/graph';
import { cachedGraph } from './onnx/kernels';

// Module-level bindings: inside vm contexts (test runners) every global lookup is slow.
const { max, sqrt } = Math;

export interface PivotedCholeskyOptions {
  /** Stop when the largest remaining pivot is <= relTol * largest diagonal entry (default 1e-13). */
  relTol?: number;
  /** Panel width (default 32). */
  blockSize?: number;
  /** Below this size the unblocked JavaScript routine is used (default 96). */
  blockedFrom?: number;
}

/**
 * a : (n, n) symmetric positive semi-definite, row-major (not modified).
 * Returns R (rank, n) upper-trapezoidal with a[piv][:, piv] = R^T R.
 */
export async function pivotedCholeskyBlocked(engine: Engine, a: Float64Array, n: number, options: PivotedCholeskyOptions = {}): Promise<PivotedCholesky> {
  if (a.length !== n * n) throw new ComputeError('SHAPE_MISMATCH', `expected ${n}x${n} matrix`);
  const relTol = options.relTol ?? 1e-13;
  if (n < (options.blockedFrom ?? 96)) return pivotedCholesky(a, n, relTol);
  const nb = Math.max(2, Math.floor(options.blockSize ?? 32));
  const w = Float64Array.from(a);
  const piv = Int32Array.from({ length: n }, (_, i) => i);
  const dg = new Float64Array(n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, w[i * n + i]);
  const tol = relTol * maxDiag;
  let rank = 0;
  let stopped = false;
  for (let k0 = 0; k0 < n && !stopped; k0 += nb) {
    const kb = Math.min(nb, n - k0);
    for (let j = k0; j < n; j++) dg[j] = w[j * n + j];
    let k = k0;
    for (; k < k0 + kb; k++) {
      let best = k;
      for (let j = k + 1; j < n; j++) if (dg[j] > dg[best]) best = j;
      if (!(dg[best] > tol)) {
        stopped = true;
        break;
      }
      if (best !== k) {
        swapRowsAndColumns(w, n, k, best);
        let t: number = piv[k];
        piv[k] = piv[best];
        piv[best] = t;
        t = dg[k];
        dg[k] = dg[best];
        dg[best] = t;
      }
      const rkk = Math.sqrt(dg[k]);
      const row = k * n;
      // R[k, k+1:] = (A_t[k, k+1:] - sum over this panel's earlier rows i of R[i, k] R[i, k+1:]) / R[k, k]
      for (let i = k0; i < k; i++) {
        const ri = i * n;
        const rik = w[ri + k];
        if (rik === 0) continue;
        for (let j = k + 1; j < n; j++) w[row + j] -= rik * w[ri + j];
      }
      w[row + k] = rkk;
      const inv = 1 / rkk;
      for (let j = k + 1; j < n; j++) {
        const value = w[row + j] * inv;
        w[row + j] = value;
        dg[j] -= value * value;
      }
      rank++;
    }
    // Trailing update A_t[k1:, k1:] -= R_p[:, k1:]^T R_p[:, k1:] with the panel's rows.
    const k1 = k;
    const m = n - k1;
    const rows = k1 - k0;
    if (!stopped && m > 0 && rows > 0) {
      const block = new Float64Array(m * m);
      for (let r = 0; r < m; r++) block.set(w.subarray((k1 + r) * n + k1, (k1 + r + 1) * n), r * m);
      const panel = new Float64Array(rows * m);
      for (let r = 0; r < rows; r++) panel.set(w.subarray((k0 + r) * n + k1, (k0 + r + 1) * n), r * m);
      const out = await engine.run(syrkGraph(), { A: { data: block, dims: [m, m] }, R: { data: panel, dims: [rows, m] } });
      const updated = out.A2.data as Float64Array;
      for (let r = 0; r < m; r++) w.set(updated.subarray(r * m, (r + 1) * m), (k1 + r) * n + k1);
    }
  }
  const r = new Float64Array(rank * n);
  for (let k = 0; k < rank; k++) r.set(w.subarray(k * n + k, (k + 1) * n), k * n + k);
  return { r, piv, rank };
}

function swapRowsAndColumns(w: Float64Array, n: number, k: number, l: number): void {
  const rowK = w.slice(k * n, (k + 1) * n);
  w.copyWithin(k * n, l * n, (l + 1) * n);
  w.set(rowK, l * n);
  for (let i = 0; i < n; i++) {
    const t = w[i * n + k];
    w[i * n + k] = w[i * n + l];
    w[i * n + l] = t;
  }
}

function syrkGraph(): Graph {
  return cachedGraph('cholesky:syrk', () => {
    const g = new GraphBuilder('cholesky_syrk');
    const A = g.input('A', 'float64', ['m', 'm']);
    const R = g.input('R', 'float64', ['k', 'm']);
    g.output(g.node('Gemm', [R, R, A], { alpha: -1, beta: 1, transA: 1 }, { floatAttrs: ['alpha', 'beta'] }), 'A2', 'float64', ['m', 'm']);
    return g.build();
  });
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
