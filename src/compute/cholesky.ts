// Cholesky factorisation with diagonal pivoting for positive semi-definite float64 matrices, blocked
// so the trailing updates (n^3/3 multiply-adds) are engine products and JavaScript only does the
// O(n^2 * panel) in-panel work (LAPACK dpstrf's structure).
import { ComputeError } from './errors';
import { pivotedCholesky, type PivotedCholesky } from './linalg';
import type { Engine } from './onnx/engine';
import { GraphBuilder, type Graph } from './onnx/graph';
import { cachedGraph } from './onnx/kernels';

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
