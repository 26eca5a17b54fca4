import { pivotedCholesky, pivotedCholeskyBlocked } from '../../src/compute/cholesky';
import { symmetricEigen, symmetricEigenBlocked } from '../../src/compute/eigen';
import { Rng } from '../../src/compute/random';
import { cpuEngine } from './helpers';

/** A = X^T X for X (m, n) of normals; optional duplicated columns (rank loss) and repeated scale. */
function gram(n: number, m: number, seed: number, duplicateColumns = 0): Float64Array {
  const rng = new Rng(seed);
  const X = new Float64Array(m * n).map(() => rng.normal());
  for (let c = 0; c < duplicateColumns; c++) for (let i = 0; i < m; i++) X[i * n + c] = X[i * n + c + 1];
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += X[k * n + i] * X[k * n + j];
      A[i * n + j] = s;
      A[j * n + i] = s;
    }
  return A;
}

function check(A: Float64Array, n: number, values: Float64Array, first: number, vt: Float64Array): { residual: number; orthogonality: number } {
  const lmax = Math.max(...Array.from(values, Math.abs));
  let residual = 0;
  let orthogonality = 0;
  const count = n - first;
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k] * vt[j * n + k];
      residual = Math.max(residual, Math.abs(s - values[first + j] * vt[j * n + i]) / lmax);
    }
    for (let l = j; l < count; l++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vt[j * n + k] * vt[l * n + k];
      orthogonality = Math.max(orthogonality, Math.abs(s - (j === l ? 1 : 0)));
    }
  }
  return { residual, orthogonality };
}

describe('symmetric eigen-decomposition (float64)', () => {
  test('plain QL route: A v = lambda v, orthonormal, ascending', () => {
    const n = 40;
    const A = gram(n, 60, 1);
    const { values, vectorsT } = symmetricEigen(A, n);
    const c = check(A, n, values, 0, vectorsT);
    expect(c.residual).toBeLessThan(1e-13);
    expect(c.orthogonality).toBeLessThan(1e-12);
    expect(values.every((v, i) => i === 0 || v >= values[i - 1])).toBe(true);
  });

  test.each([
    ['full rank', 70, 120, 0, 0],
    ['fewer samples than features', 70, 30, 0, 0],
    ['duplicated features', 70, 120, 5, 0],
    ['full rank, small-matrix JavaScript route', 70, 120, 0, 1000],
    ['fewer samples than features, small-matrix JavaScript route', 70, 30, 0, 1000],
  ])('inverse-iteration route (%s) agrees with the QL reference', async (_label, n, m, dup, blockedFrom) => {
    const engine = await cpuEngine();
    const A = gram(n, m, 2, dup);
    const plain = symmetricEigen(A, n);
    const lmax = plain.values[n - 1];
    const blocked = await symmetricEigenBlocked(engine, A, n, { blockedFrom, blockSize: 8, minEigenvalueRelative: 1e-10 });
    for (let i = 0; i < n; i++) expect(Math.abs(blocked.values[i] - plain.values[i]) / lmax).toBeLessThan(1e-13);
    const expectedFirst = plain.values.findIndex((v) => v > 1e-10 * lmax);
    expect(blocked.first).toBe(expectedFirst);
    const c = check(A, n, blocked.values, blocked.first, blocked.vectorsT);
    expect(c.residual).toBeLessThan(1e-12);
    expect(c.orthogonality).toBeLessThan(1e-10);
  });

  test('blocked route handles clustered eigenvalues', async () => {
    const engine = await cpuEngine();
    // Q diag(1,1,1,2,2,...) Q^T with a random orthogonal Q from the plain route.
    const n = 50;
    const q = symmetricEigen(gram(n, 80, 3), n).vectorsT;
    const lambda = Float64Array.from({ length: n }, (_, i) => 1 + Math.floor(i / 10) + 1e-12 * i);
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) A[i * n + j] += q[k * n + i] * lambda[k] * q[k * n + j];
    const r = await symmetricEigenBlocked(engine, A, n, { blockedFrom: 0, blockSize: 6 });
    const c = check(A, n, r.values, r.first, r.vectorsT);
    expect(c.residual).toBeLessThan(1e-12);
    expect(c.orthogonality).toBeLessThan(1e-10);
  });
});

describe('pivoted Cholesky', () => {
  test.each([
    ['unblocked', 0],
    ['blocked', 1],
  ])('factorises a rank-deficient Gram exactly in pivoted order (%s)', async (_label, blocked) => {
    const n = 30;
    const A = gram(n, 12, 4); // rank 12
    const { r, piv, rank } = blocked ? await pivotedCholeskyBlocked(await cpuEngine(), A, n, { blockedFrom: 0, blockSize: 5 }) : pivotedCholesky(A, n);
    expect(rank).toBe(12);
    let err = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < rank; k++) s += r[k * n + i] * r[k * n + j];
        err = Math.max(err, Math.abs(s - A[piv[i] * n + piv[j]]));
      }
    expect(err / A[0]).toBeLessThan(1e-12);
  });

  test('blocked and unblocked agree on a full-rank Gram', async () => {
    const n = 40;
    const A = gram(n, 100, 6);
    const a = pivotedCholesky(A, n);
    const b = await pivotedCholeskyBlocked(await cpuEngine(), A, n, { blockedFrom: 0, blockSize: 7 });
    expect(Array.from(b.piv)).toEqual(Array.from(a.piv));
    let diff = 0;
    for (let i = 0; i < a.r.length; i++) diff = Math.max(diff, Math.abs(a.r[i] - b.r[i]));
    expect(diff / Math.sqrt(A[0])).toBeLessThan(1e-12);
  });
});
