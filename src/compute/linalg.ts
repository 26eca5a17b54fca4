// Basic dense float64 operations on row-major typed arrays (vectors and d x d matrices), the small
// pieces the decompositions and ridge share. Big products go through ONNX Runtime
// (onnx/kernels.ts); the symmetric eigensolver is eigen.ts, Cholesky factorisations cholesky.ts.

/** Column sums of a (n, d) matrix. */
export function columnSums(data: Float32Array | Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) out[j] += data[row + j];
  }
  return out;
}

/** Column means of a (n, d) matrix. */
export function columnMeans(data: Float32Array | Float64Array, n: number, d: number): Float64Array {
  const out = columnSums(data, n, d);
  for (let j = 0; j < d; j++) out[j] /= n;
  return out;
}

/** M -= scale * a b^T for a (d, d) matrix. */
export function subtractOuter(m: Float64Array, a: Float64Array, b: Float64Array, scale: number, d: number): void {
  for (let i = 0; i < d; i++) {
    const ai = a[i] * scale;
    const row = i * d;
    for (let j = 0; j < d; j++) m[row + j] -= ai * b[j];
  }
}

/** scale * (A @ x) for A (rows, cols). */
export function matVec(a: Float64Array, x: Float64Array, rows: number, cols: number, scale: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += a[row + j] * x[j];
    out[i] = s * scale;
  }
  return out;
}
