// Representational dissimilarity matrices from stimulus patterns, as rsatoolbox defines them:
//   correlation  1 - r between the two stimuli's patterns (calc_rdm_correlation)
//   euclidean    squared Euclidean distance divided by the number of channels (calc_rdm_euclidean:
//                rsatoolbox's "euclidean" is the mean squared difference per voxel)
//   crossnobis   leave-one-repeat-out cross-validated squared distance with an identity noise
//                precision (calc_rdm_crossnobis): for each repeat k, (mean of the other repeats
//                at i - at j) . (repeat k at i - at j) / channels, averaged over k. Unbiased: its
//                expectation is the noise-free distance, so it can be negative.
// The Gram products run in the engine over blocks of rows, written straight into the one
// upper-triangle vector, so an n-stimulus RDM holds n (n - 1) / 2 float32 values plus one
// (block x n) Gram block, whatever n.
import { check } from '../errors';
import { gemm, matrix, type Engine, type Matrix } from '../onnx';
import { pairCount } from './triangle';

export type RdmMethod = 'correlation' | 'euclidean' | 'crossnobis';

export interface Rdm {
  /** Upper triangle, row-major over i < j (scipy's pdist order), float32. */
  values: Float32Array;
  nStimuli: number;
  /**
   * Correlation distance only: stimuli whose pattern is constant over the channels (no variance,
   * so 1 - r is undefined); their pairs are NaN. Empty otherwise.
   */
  constantStimuli: number[];
}

export interface RdmOptions {
  /** Rows per Gram block (memory: blockRows x n float32 at a time). Default 1024. */
  blockRows?: number;
}

/**
 * RDM of patterns : (n_stimuli, n_channels) by correlation distance or rsatoolbox's Euclidean.
 */
export async function patternRdm(engine: Engine, patterns: Matrix<Float32Array>, method: 'correlation' | 'euclidean', options: RdmOptions = {}): Promise<Rdm> {
  const { rows: n, cols: p } = patterns;
  check(n >= 2 && p >= 1, 'INVALID_ARGUMENT', `an RDM needs at least 2 stimuli and 1 channel (got ${n} x ${p})`);
  const prepared = new Float32Array(n * p);
  const sq = new Float64Array(n);
  const constantStimuli: number[] = [];
  if (method === 'correlation') {
    // Centre each pattern over channels and scale it to unit length: then 1 - r = 1 - z_i . z_j.
    for (let i = 0; i < n; i++) {
      const row = patterns.data.subarray(i * p, (i + 1) * p);
      let mean = 0;
      for (let j = 0; j < p; j++) mean += row[j];
      mean /= p;
      let ss = 0;
      for (let j = 0; j < p; j++) ss += (row[j] - mean) ** 2;
      // Relative threshold: float32 rounding leaves a tiny variance on a constant pattern.
      let scale2 = 0;
      for (let j = 0; j < p; j++) scale2 += row[j] * row[j];
      if (!(ss > 1e-12 * Math.max(scale2, 1e-30)) || p < 2) {
        constantStimuli.push(i);
        continue;
      }
      const inv = 1 / Math.sqrt(ss);
      for (let j = 0; j < p; j++) prepared[i * p + j] = (row[j] - mean) * inv;
    }
  } else {
    // Centring the channels over stimuli leaves distances unchanged and keeps the float32
    // expansion |a|^2 + |b|^2 - 2 a.b away from cancellation.
    const colMean = columnMeans(patterns);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < p; j++) {
        const v = patterns.data[i * p + j] - colMean[j];
        prepared[i * p + j] = v;
        s += v * v;
      }
      sq[i] = s;
    }
  }
  const values = new Float32Array(pairCount(n));
  const all = matrix(prepared, n, p);
  const constant = new Uint8Array(n);
  for (const i of constantStimuli) constant[i] = 1;
  await forGramBlocks(engine, n, options.blockRows, (start, count) => gemm(engine, matrix(prepared.subarray(start * p, (start + count) * p), count, p), rowsFrom(all, start), { transB: true }), (i, start, gramRow) => {
    const off = i * n - (i * (i + 1)) / 2 - i - 1;
    for (let j = i + 1; j < n; j++) {
      const g = gramRow[j - start];
      values[off + j] = method === 'correlation' ? (constant[i] || constant[j] ? NaN : 1 - g) : Math.max(0, sq[i] + sq[j] - 2 * g) / p;
    }
  });
  return { values, nStimuli: n, constantStimuli };
}

/**
 * Crossnobis RDM from repeats : n_repeats arrays of (n_stimuli, n_channels), the same stimuli in
 * the same order in each (each repeat is one cross-validation fold). With S the sum over repeats,
 * the leave-one-out cross products sum to G = (S S^T - sum_k A_k A_k^T) / (K (K - 1)), and
 * d_ij = (G_ii + G_jj - 2 G_ij) / channels, exactly rsatoolbox's average over folds.
 */
export async function crossnobisRdm(engine: Engine, repeats: Matrix<Float32Array>[], options: RdmOptions = {}): Promise<Rdm> {
  const K = repeats.length;
  check(K >= 2, 'INVALID_ARGUMENT', `crossnobis needs at least 2 repeats (got ${K})`);
  const { rows: n, cols: p } = repeats[0];
  for (const r of repeats) check(r.rows === n && r.cols === p, 'SHAPE_MISMATCH', 'every repeat must have the same stimuli and channels');
  // Per-repeat column centring leaves every difference between stimuli within a repeat unchanged.
  const centred = repeats.map((r) => {
    const mean = columnMeans(r);
    const out = new Float32Array(n * p);
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) out[i * p + j] = r.data[i * p + j] - mean[j];
    return matrix(out, n, p);
  });
  const sum = new Float32Array(n * p);
  for (const r of centred) for (let t = 0; t < n * p; t++) sum[t] += r.data[t];
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < p; j++) s += sum[i * p + j] ** 2;
    for (const r of centred) for (let j = 0; j < p; j++) s -= r.data[i * p + j] ** 2;
    diag[i] = s / (K * (K - 1));
  }
  const S = matrix(sum, n, p);
  const values = new Float32Array(pairCount(n));
  const norm = 1 / (K * (K - 1));
  await forGramBlocks(
    engine,
    n,
    options.blockRows,
    async (start, count) => {
      const block = await gemm(engine, matrix(sum.subarray(start * p, (start + count) * p), count, p), rowsFrom(S, start), { transB: true });
      for (const r of centred) {
        const own = await gemm(engine, matrix(r.data.subarray(start * p, (start + count) * p), count, p), rowsFrom(r, start), { transB: true });
        for (let t = 0; t < block.data.length; t++) block.data[t] -= own.data[t];
      }
      return block;
    },
    (i, start, gramRow) => {
      const off = i * n - (i * (i + 1)) / 2 - i - 1;
      for (let j = i + 1; j < n; j++) values[off + j] = (diag[i] + diag[j] - 2 * gramRow[j - start] * norm) / p;
    },
  );
  return { values, nStimuli: n, constantStimuli: [] };
}

async function forGramBlocks(
  engine: Engine,
  n: number,
  blockRows: number | undefined,
  block: (start: number, count: number) => Promise<Matrix<Float32Array>>,
  row: (i: number, start: number, gramRow: Float32Array) => void,
): Promise<void> {
  void engine;
  const size = Math.max(1, blockRows ?? 1024);
  for (let start = 0; start < n - 1; start += size) {
    const count = Math.min(size, n - start);
    // Only the columns from the block's first row on: the lower triangle is never computed.
    const g = await block(start, count);
    const width = n - start;
    for (let r = 0; r < count; r++) row(start + r, start, g.data.subarray(r * width, (r + 1) * width));
  }
}

/** Rows start.. of a matrix, as a view. */
function rowsFrom(m: Matrix<Float32Array>, start: number): Matrix<Float32Array> {
  return matrix(m.data.subarray(start * m.cols), m.rows - start, m.cols);
}

function columnMeans(m: Matrix<Float32Array>): Float64Array {
  const mean = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) mean[j] += m.data[i * m.cols + j];
  for (let j = 0; j < m.cols; j++) mean[j] /= m.rows;
  return mean;
}
