// Symmetric eigen-decomposition in float64: the plain JavaScript routines (Householder
// tridiagonalisation, implicit QL, reflectors applied to rows) and the blocked route with the O(n^3)
// work in engine products, for the
// d x d Gram matrices of ridge (d = 512..1152, six decompositions per fit). Plain JavaScript does
// 0.3-1 GFLOP/s here, which makes the textbook Householder + QL-with-vectors route (~10 n^3 flops)
// cost seconds per decomposition (4.4 s at n = 768, measured); here (0.25-0.3 s at n = 768):
//   1. blocked Householder tridiagonalisation (LAPACK dsytrd/dlatrd, lower): per column, one
//      matrix-vector product with the panel's trailing block (an engine call, memory-bound: ~100 ms
//      of the total) and O(n * panel) corrections in JavaScript; the symmetric rank-2k update of
//      each panel is an engine product;
//   2. eigenvalues of the tridiagonal matrix by implicit QL without vectors (O(n^2));
//   3. eigenvectors of the tridiagonal matrix by inverse iteration (O(n) per vector and sweep),
//      re-orthogonalised within clusters of close eigenvalues (LAPACK dstein's approach), and only
//      for the eigenvalues the caller keeps;
//   4. back-transformation by the panels' compact WY form (dlarft), as float64 engine products.
// Below `blockedFrom` (160, the measured crossover) steps 1 and 4 run in plain JavaScript instead.
// Accuracy (tests/compute/linalg.test.ts): residual ||A v - lambda v|| ~1e-15 ||A||, orthogonality
// ~1e-13, eigenvalues equal to the QL reference to 1e-13 ||A||.
import { ComputeError } from './errors';
import type { Engine } from './onnx/engine';
import { GraphBuilder, type Graph } from './onnx/graph';
import { cachedGraph, gemm } from './onnx/kernels';
import { Rng } from './random';
import { timeSlicer } from './yield';

// Module-level bindings: inside vm contexts (test runners) every global lookup is slow.
const { abs, floor, hypot, max, min, sqrt } = Math;

export interface EigenOptions {
  /** Compute eigenvectors only for eigenvalues > minEigenvalue (all by default). */
  minEigenvalue?: number;
  /** Likewise, relative to the largest eigenvalue (the larger of the two thresholds applies). */
  minEigenvalueRelative?: number;
  /** Panel width of the blocked reduction (default 48; the back-transformation uses >= 128). */
  blockSize?: number;
  /** Below this size the plain JavaScript route is used (default 160, the measured crossover). */
  blockedFrom?: number;
  /**
   * Eigenvalues closer than clusterTolerance * ||T||_1 are treated as a cluster and their inverse
   * iteration vectors are re-orthogonalised against each other (default 1e-5).
   */
  clusterTolerance?: number;
}

export interface EigenResult {
  /** All eigenvalues, ascending, (n,). */
  values: Float64Array;
  /** Index of the first eigenvalue with a computed vector. */
  first: number;
  /** Eigenvectors as rows for values[first..n-1], shape (n - first, n). */
  vectorsT: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric matrix a : (n, n) row-major (not modified).
 */
export async function symmetricEigenBlocked(engine: Engine, a: Float64Array, n: number, options: EigenOptions = {}): Promise<EigenResult> {
  if (a.length !== n * n) throw new ComputeError('SHAPE_MISMATCH', `expected ${n}x${n} matrix`);
  const threshold = (largest: number) => max(options.minEigenvalue ?? -Infinity, options.minEigenvalueRelative === undefined ? -Infinity : options.minEigenvalueRelative * largest);
  if (n < (options.blockedFrom ?? 160)) {
    // Small matrices: the same steps in plain JavaScript (engine calls would cost more than they
    // save): Householder reduction, QL eigenvalues, inverse iteration, reflectors applied to rows.
    const work = Float64Array.from(a);
    const { d, e, tau } = tridiagonalize(work, n);
    const { values, first, zt } = await tridiagonalEigenpairs(d, e, n, threshold, options.clusterTolerance);
    applyReflectorsToRows(work, tau, n, zt, n - first);
    return { values, first, vectorsT: zt };
  }
  const nb = max(2, floor(options.blockSize ?? 48));
  const work = Float64Array.from(a);
  const { d, e, tau } = await tridiagonalizeBlocked(engine, work, n, nb);
  const { values, first, zt } = await tridiagonalEigenpairs(d, e, n, threshold, options.clusterTolerance);
  const vectorsT = await backTransform(engine, work, tau, n, max(nb, 128), zt, n - first);
  return { values, first, vectorsT };
}

/**
 * Eigenvalues of the tridiagonal (d, e) by QL, ascending; the eigenvectors of those above the
 * threshold (a function of the largest eigenvalue) by inverse iteration, as rows of zt.
 */
async function tridiagonalEigenpairs(d: Float64Array, e: Float64Array, n: number, threshold: (largest: number) => number, clusterTolerance = 1e-5) {
  const values = Float64Array.from(d);
  const ql = new Float64Array(n);
  ql.set(e);
  tridiagonalEigen(values, ql, null, n);
  const minEigenvalue = threshold(values[n - 1]);
  let first = 0;
  while (first < n && !(values[first] > minEigenvalue)) first++;
  const zt = await inverseIteration(d, e, values, first, n, clusterTolerance);
  return { values, first, zt };
}

/**
 * Eigen-decompositions of several symmetric matrices of the same size (ridge: one per fold and the
 * refit). Sequential: running them in lockstep, one engine call per column for all of them, was
 * measured no faster (the per-column products are bound by memory traffic, not call overhead).
 */
export async function symmetricEigenMany(engine: Engine, mats: readonly Float64Array[], n: number, options: EigenOptions = {}): Promise<EigenResult[]> {
  const out: EigenResult[] = [];
  for (const a of mats) out.push(await symmetricEigenBlocked(engine, a, n, options));
  return out;
}

/**
 * Blocked reduction to tridiagonal form (lower). a : (n, n) symmetric, both triangles valid;
 * overwritten: row k right of the diagonal holds reflector k (a[k, k+1] = 1), as `tridiagonalize`
 * stores it.
 *
 * The trailing matrix from row and column k0 of each panel is kept as its own contiguous block
 * (symmetric, so the column a step needs is a contiguous row of it), and the panel's reflectors
 * and their W vectors as rows; every access in the per-column JavaScript is then sequential.
 */
export async function tridiagonalizeBlocked(engine: Engine, a: Float64Array, n: number, nb: number): Promise<{ d: Float64Array; e: Float64Array; tau: Float64Array }> {
  const d = new Float64Array(n);
  const e = new Float64Array(n - 1);
  const tau = new Float64Array(n);
  const col = new Float64Array(n);
  let block: Float64Array = Float64Array.from(a); // trailing matrix from k0, (mk, mk)
  // Work arrays reused from panel to panel (fresh ones per panel cost more in garbage collection
  // than in arithmetic).
  const vAll = new Float64Array(nb * n);
  const wAll = new Float64Array(nb * n);
  const nextAll = new Float64Array((n - min(nb, max(0, n - 2))) ** 2); // the first panel's trailing block is the largest
  for (let k0 = 0; k0 < n - 2; k0 += nb) {
    const kb = min(nb, n - 2 - k0);
    const mk = n - k0;
    // This panel's reflectors V and W, (kb, mk) row by row; rows not yet computed are zero.
    const V = vAll.subarray(0, kb * mk).fill(0);
    const W = wAll.subarray(0, kb * mk).fill(0);
    for (let i = 0; i < kb; i++) {
      const j = k0 + i;
      // Column j (local rows i..mk-1) = the panel-start column minus this panel's earlier updates.
      col.set(block.subarray(i * mk + i, (i + 1) * mk), i);
      for (let p = 0; p < i; p++) {
        const vp = p * mk;
        const wjp = W[vp + i];
        const vjp = V[vp + i];
        for (let r = i; r < mk; r++) col[r] -= V[vp + r] * wjp + W[vp + r] * vjp;
      }
      d[j] = col[i];
      const alpha = col[i + 1];
      let xnorm2 = 0;
      for (let r = i + 2; r < mk; r++) xnorm2 += col[r] * col[r];
      const vi = i * mk;
      const row = j * n + k0; // reflector j in a's row j, local column r at row + r
      if (xnorm2 === 0) {
        // Already reduced: H = I (V and W rows stay zero).
        tau[j] = 0;
        e[j] = alpha;
        a.fill(0, row + i + 1, row + mk);
        a[row + i + 1] = 1;
        continue;
      }
      const beta = -(alpha >= 0 ? 1 : -1) * sqrt(alpha * alpha + xnorm2);
      const t = (beta - alpha) / beta;
      const scale = 1 / (alpha - beta);
      tau[j] = t;
      e[j] = beta;
      V[vi + i + 1] = 1;
      for (let r = i + 2; r < mk; r++) V[vi + r] = col[r] * scale;
      a.set(V.subarray(vi + i + 1, vi + mk), row + i + 1);
      // y = A_panelstart v - V^T (W v) - W^T (V v), one engine call: v is V's row i (zero up to
      // local row i), the rows of this panel not yet computed are zero. JavaScript manages
      // ~0.3 GFLOP/s on such loops here.
      const y = (
        await engine.run(panelGemvGraph(), {
          A: { data: block, dims: [mk, mk] },
          x: { data: V.subarray(vi, vi + mk), dims: [mk, 1] },
          V: { data: V, dims: [kb, mk] },
          W: { data: W, dims: [kb, mk] },
        })
      ).y.data as Float64Array;
      let yv = 0;
      for (let r = i + 1; r < mk; r++) {
        y[r] *= t;
        yv += y[r] * V[vi + r];
      }
      const c = -0.5 * t * yv;
      for (let r = i + 1; r < mk; r++) W[vi + r] = y[r] + c * V[vi + r];
    }
    // Trailing update A[s:, s:] -= V W^T + W V^T for s = k0 + kb, as one engine product on the
    // trailing block, which then is the next panel's.
    const m = mk - kb;
    const next = nextAll.subarray(0, m * m);
    for (let r = 0; r < m; r++) next.set(block.subarray((kb + r) * mk + kb, (kb + r + 1) * mk), r * m);
    // The reflectors' trailing parts, in place: row p moves from offset p mk + kb to p m.
    for (let p = 0; p < kb; p++) {
      V.copyWithin(p * m, p * mk + kb, (p + 1) * mk);
      W.copyWithin(p * m, p * mk + kb, (p + 1) * mk);
    }
    const vs = V.subarray(0, kb * m);
    const ws = W.subarray(0, kb * m);
    const out = await engine.run(syr2kGraph(), {
      A: { data: next, dims: [m, m] },
      V: { data: vs, dims: [kb, m] },
      W: { data: ws, dims: [kb, m] },
    });
    block = out.A2.data as Float64Array;
  }
  // What is left is the trailing 2 x 2 block (rows and columns n-2, n-1).
  d[n - 2] = block[0];
  e[n - 2] = block[2];
  d[n - 1] = block[3];
  return { d, e, tau };
}

/** y = A x - V^T (W x) - W^T (V x): A (m, m), x (m, 1), V and W (k, m). */
function panelGemvGraph(): Graph {
  return cachedGraph('eigen:panel_gemv_rows', () => {
    const g = new GraphBuilder('eigen_panel_gemv');
    const A = g.input('A', 'float64', ['m', 'm']);
    const x = g.input('x', 'float64', ['m', 1]);
    const V = g.input('V', 'float64', ['k', 'm']);
    const W = g.input('W', 'float64', ['k', 'm']);
    const wx = g.node('MatMul', [W, x]);
    const vx = g.node('MatMul', [V, x]);
    const ax = g.node('MatMul', [A, x]);
    const minusVwx = g.node('Gemm', [V, wx, ax], { alpha: -1, beta: 1, transA: 1 }, { floatAttrs: ['alpha', 'beta'] });
    g.output(g.node('Gemm', [W, vx, minusVwx], { alpha: -1, beta: 1, transA: 1 }, { floatAttrs: ['alpha', 'beta'] }), 'y', 'float64', ['m', 1]);
    return g.build({ singleThread: true });
  });
}

/** A - V^T W - W^T V: A (m, m), V and W (k, m). */
function syr2kGraph(): Graph {
  return cachedGraph('eigen:syr2k_rows', () => {
    const g = new GraphBuilder('eigen_syr2k');
    const A = g.input('A', 'float64', ['m', 'm']);
    const V = g.input('V', 'float64', ['k', 'm']);
    const W = g.input('W', 'float64', ['k', 'm']);
    const once = g.node('Gemm', [V, W, A], { alpha: -1, beta: 1, transA: 1 }, { floatAttrs: ['alpha', 'beta'] });
    g.output(g.node('Gemm', [W, V, once], { alpha: -1, beta: 1, transA: 1 }, { floatAttrs: ['alpha', 'beta'] }), 'A2', 'float64', ['m', 'm']);
    return g.build();
  });
}

/**
 * Eigenvectors of the tridiagonal (d, e) for eigenvalues lambda[first..n-1] by inverse iteration.
 * Returns rows (n - first, n). Yields to the event loop every few tens of milliseconds (at n = 1024
 * the whole loop is ~0.2-0.7 s of JavaScript).
 */
export async function inverseIteration(d: Float64Array, e: Float64Array, lambda: Float64Array, first: number, n: number, clusterTolerance: number): Promise<Float64Array> {
  const count = n - first;
  const zt = new Float64Array(count * n);
  let norm = 0;
  for (let i = 0; i < n; i++) norm = max(norm, abs(d[i]) + (i > 0 ? abs(e[i - 1]) : 0) + (i < n - 1 ? abs(e[i]) : 0));
  if (norm === 0) {
    for (let k = 0; k < count; k++) zt[k * n + first + k] = 1;
    return zt;
  }
  const eps = 2 ** -52;
  const ortol = clusterTolerance * norm;
  const pertol = 10 * eps * norm;
  const rng = new Rng(12345);
  // LU factors of T - x I with partial pivoting: U has diagonals u0, u1, u2; multipliers l; swap flags.
  const u0 = new Float64Array(n);
  const u1 = new Float64Array(n);
  const u2 = new Float64Array(n);
  const l = new Float64Array(n);
  const swapped = new Uint8Array(n);
  const x = new Float64Array(n);
  let clusterStart = first;
  let previous = -Infinity;
  const slice = timeSlicer();
  for (let k = first; k < n; k++) {
    await slice();
    let shift = lambda[k];
    if (k > first && shift - previous < pertol) shift = previous + pertol;
    if (k === first || lambda[k] - lambda[k - 1] > ortol) clusterStart = k;
    previous = shift;
    factorShifted(d, e, shift, n, u0, u1, u2, l, swapped, eps * norm);
    for (let i = 0; i < n; i++) x[i] = rng.uniform() - 0.5;
    // Two sweeps: with an eigenvalue accurate to eps ||T||, one already gives the vector to working
    // accuracy from a random start; the second cleans up after re-orthogonalisation.
    for (let iter = 0; iter < 2; iter++) {
      solveShifted(u0, u1, u2, l, swapped, n, x);
      // Re-orthogonalise against this cluster's earlier vectors (modified Gram-Schmidt).
      for (let q = clusterStart; q < k; q++) {
        const row = (q - first) * n;
        let dot = 0;
        for (let i = 0; i < n; i++) dot += zt[row + i] * x[i];
        for (let i = 0; i < n; i++) x[i] -= dot * zt[row + i];
      }
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i] * x[i];
      const inv = 1 / sqrt(s);
      if (!Number.isFinite(inv)) throw new ComputeError('INVALID_ARGUMENT', 'inverse iteration broke down');
      for (let i = 0; i < n; i++) x[i] *= inv;
    }
    zt.set(x, (k - first) * n);
  }
  return zt;
}

function factorShifted(d: Float64Array, e: Float64Array, shift: number, n: number, u0: Float64Array, u1: Float64Array, u2: Float64Array, l: Float64Array, swapped: Uint8Array, tiny: number): void {
  // Row i of T - shift I: [e[i-1], d[i] - shift, e[i]]. Eliminate the subdiagonal row by row.
  let a0 = d[0] - shift; // current pivot-row diagonal
  let a1 = n > 1 ? e[0] : 0; // its superdiagonal
  let a2 = 0; // its second superdiagonal (fill-in from swaps)
  for (let i = 0; i < n - 1; i++) {
    const b0 = e[i]; // next row's subdiagonal
    const b1 = d[i + 1] - shift;
    const b2 = i + 1 < n - 1 ? e[i + 1] : 0;
    if (abs(b0) > abs(a0)) {
      // Swap rows: pivot on the next row.
      swapped[i] = 1;
      u0[i] = b0;
      u1[i] = b1;
      u2[i] = b2;
      const m = a0 / b0;
      l[i] = m;
      a0 = a1 - m * b1;
      a1 = a2 - m * b2;
      a2 = 0;
    } else {
      swapped[i] = 0;
      const piv = a0 === 0 ? tiny : a0;
      u0[i] = piv;
      u1[i] = a1;
      u2[i] = a2;
      const m = b0 / piv;
      l[i] = m;
      a0 = b1 - m * a1;
      a1 = b2;
      a2 = 0;
    }
  }
  u0[n - 1] = a0 === 0 ? tiny : a0;
  u1[n - 1] = 0;
  u2[n - 1] = 0;
  for (let i = 0; i < n; i++) if (abs(u0[i]) < tiny) u0[i] = u0[i] < 0 ? -tiny : tiny;
}

function solveShifted(u0: Float64Array, u1: Float64Array, u2: Float64Array, l: Float64Array, swapped: Uint8Array, n: number, x: Float64Array): void {
  // Forward: apply the row operations to x.
  for (let i = 0; i < n - 1; i++) {
    if (swapped[i]) {
      const t = x[i];
      x[i] = x[i + 1];
      x[i + 1] = t - l[i] * x[i + 1];
    } else {
      x[i + 1] -= l[i] * x[i];
    }
  }
  // Backward: upper triangular with two superdiagonals. Rescale to avoid overflow.
  let big = 0;
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    if (i + 1 < n) s -= u1[i] * x[i + 1];
    if (i + 2 < n) s -= u2[i] * x[i + 2];
    x[i] = s / u0[i];
    const ax = abs(x[i]);
    if (ax > big) big = ax;
    if (big > 1e150) {
      // The solve is linear: rescale the solved part and the remaining right-hand side alike.
      for (let k = 0; k < n; k++) x[k] /= big;
      big = 1;
    }
  }
}

/**
 * Row eigenvectors of A from those of T: X = Q Z with Q = Q_1 ... Q_P (panel WY forms), applied
 * from the last panel to the first. Z is held as columns (n, count) so that the rows a panel
 * touches (k0+1..n-1) are one contiguous block and untouched rows cost nothing.
 * zt : (count, n) rows; reflector k is row k of `a` right of the diagonal (a[k, k+1] = 1).
 * Returns (count, n) rows.
 */
export async function backTransform(engine: Engine, a: Float64Array, tau: Float64Array, n: number, nb: number, zt: Float64Array, count: number): Promise<Float64Array> {
  if (count === 0) return zt;
  const x = new Float64Array(n * count);
  for (let k = 0; k < count; k++) for (let i = 0; i < n; i++) x[i * count + k] = zt[k * n + i];
  const panels: number[] = [];
  for (let k0 = 0; k0 < n - 2; k0 += nb) panels.push(k0);
  for (let pi = panels.length - 1; pi >= 0; pi--) {
    const k0 = panels[pi];
    const kb = min(nb, n - 2 - k0);
    const top = k0 + 1;
    const m = n - top;
    // V : (m, kb) for rows k0+1..n-1; reflector k0 + q in column q with v[k0+q+1] = 1.
    const vp = new Float64Array(m * kb);
    for (let q = 0; q < kb; q++) {
      const k = k0 + q;
      if (tau[k] === 0) continue;
      vp[(k + 1 - top) * kb + q] = 1;
      for (let r = k + 2; r < n; r++) vp[(r - top) * kb + q] = a[k * n + r];
    }
    // T (kb, kb) upper triangular, forward columnwise (dlarft): Q_p = I - V T V^T, from the
    // reflectors' inner products V^T V (one engine product; the strided dot products in
    // JavaScript cost more than the rest of the back-transformation).
    const vtv = (await gemm(engine, { data: vp, rows: m, cols: kb }, { data: vp, rows: m, cols: kb }, { transA: true })).data;
    const T = new Float64Array(kb * kb);
    for (let q = 0; q < kb; q++) {
      const t = tau[k0 + q];
      T[q * kb + q] = t;
      if (t === 0 || q === 0) continue;
      for (let p = 0; p < q; p++) {
        let s = 0;
        for (let l = p; l < q; l++) s += T[p * kb + l] * vtv[l * kb + q];
        T[p * kb + q] = -t * s;
      }
    }
    const out = await engine.run(wyGraph(), {
      X: { data: x.subarray(top * count), dims: [m, count] },
      V: { data: vp, dims: [m, kb] },
      T: { data: T, dims: [kb, kb] },
    });
    x.set(out.Y.data as Float64Array, top * count);
  }
  const rows = new Float64Array(count * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < count; k++) rows[k * n + i] = x[i * count + k];
  return rows;
}

/** Y = X - V (T (V^T X)): X (m, c), V (m, k), T (k, k). */
function wyGraph(): Graph {
  return cachedGraph('eigen:wy', () => {
    const g = new GraphBuilder('eigen_apply_wy');
    const X = g.input('X', 'float64', ['m', 'c']);
    const V = g.input('V', 'float64', ['m', 'k']);
    const T = g.input('T', 'float64', ['k', 'k']);
    const vtx = g.node('Gemm', [V, X], { transA: 1 });
    const tvtx = g.node('MatMul', [T, vtx]);
    g.output(g.node('Gemm', [V, tvtx, X], { alpha: -1, beta: 1 }, { floatAttrs: ['alpha', 'beta'] }), 'Y', 'float64', ['m', 'c']);
    return g.build();
  });
}

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
 * sqrt(p^2 + q^2), through Math.hypot only where the squares would overflow or underflow: hypot is
 * several times slower in V8, and the QL sweeps call this once per rotation.
 */
function radius(p: number, q: number): number {
  const s = p * p + q * q;
  return s > 1e-290 && s < 1e290 ? sqrt(s) : hypot(p, q);
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
        let r = radius(p, 1);
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
          r = radius(p, e[i]);
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
