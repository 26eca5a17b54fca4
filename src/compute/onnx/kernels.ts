// General-purpose kernels over typed arrays, each a cached graph run by an Engine.
import { ComputeError } from '../errors';
import type { Engine } from './engine';
import { GraphBuilder, type ElementType, type Graph } from './graph';

export type FloatArray = Float32Array | Float64Array;

/** A row-major matrix view. */
export interface Matrix<A extends FloatArray = FloatArray> {
  data: A;
  rows: number;
  cols: number;
}

export function matrix<A extends FloatArray>(data: A, rows: number, cols: number): Matrix<A> {
  if (data.length !== rows * cols) {
    throw new ComputeError('SHAPE_MISMATCH', `matrix data has ${data.length} values, expected ${rows}x${cols}`);
  }
  return { data, rows, cols };
}

function elementType(data: FloatArray): ElementType {
  return data instanceof Float32Array ? 'float32' : 'float64';
}

const graphCache = new Map<string, Graph>();

/** Graphs are pure functions of their parameters; build each once per process. */
export function cachedGraph(key: string, build: () => Graph): Graph {
  let g = graphCache.get(key);
  if (!g) {
    g = build();
    graphCache.set(key, g);
  }
  return g;
}

function gemmGraph(type: ElementType, transA: boolean, transB: boolean): Graph {
  return cachedGraph(`gemm:${type}:${transA}:${transB}`, () => {
    const g = new GraphBuilder(`gemm_${type}_${+transA}${+transB}`);
    const a = g.input('A', type, transA ? ['k', 'm'] : ['m', 'k']);
    const b = g.input('B', type, transB ? ['n', 'k'] : ['k', 'n']);
    g.output(g.node('Gemm', [a, b], { transA: +transA, transB: +transB }), 'C', type, ['m', 'n']);
    return g.build();
  });
}

/**
 * C = op(A) @ op(B), op transposing when asked.
 * A : (m, k), or (k, m) when transA; B : (k, n), or (n, k) when transB. Returns C : (m, n), in A's
 * precision (A and B must share it).
 */
export async function gemm<A extends FloatArray>(
  engine: Engine,
  a: Matrix<A>,
  b: Matrix<A>,
  options: { transA?: boolean; transB?: boolean } = {},
): Promise<Matrix<A>> {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const [m, k] = transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [k2, n] = transB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (k !== k2) throw new ComputeError('SHAPE_MISMATCH', `gemm: inner dimensions ${k} and ${k2} differ`);
  if (elementType(a.data) !== elementType(b.data)) throw new ComputeError('INVALID_ARGUMENT', 'gemm: mixed precision');
  const out = await engine.run(gemmGraph(elementType(a.data), transA, transB), {
    A: { data: a.data, dims: [a.rows, a.cols] },
    B: { data: b.data, dims: [b.rows, b.cols] },
  });
  return { data: out.C.data as A, rows: m, cols: n };
}

/** Gram matrix A^T A. A : (n, d) -> (d, d). Use float64 input when the Gram feeds a decomposition. */
export function gram<A extends FloatArray>(engine: Engine, a: Matrix<A>): Promise<Matrix<A>> {
  return gemm(engine, a, a, { transA: true });
}

/**
 * Affine map Y = X @ W + b, the encoding-model prediction.
 * X : (n, d), W : (d, v), b : (v,) or null. Returns (n, v) float32.
 */
export async function affine(
  engine: Engine,
  x: Matrix<Float32Array>,
  w: Matrix<Float32Array>,
  bias: Float32Array | null,
): Promise<Matrix<Float32Array>> {
  if (x.cols !== w.rows) throw new ComputeError('SHAPE_MISMATCH', `affine: X has ${x.cols} columns, W ${w.rows} rows`);
  const graph = cachedGraph('affine', () => {
    const g = new GraphBuilder('affine');
    const X = g.input('X', 'float32', ['n', 'd']);
    const W = g.input('W', 'float32', ['d', 'v']);
    const b = g.input('b', 'float32', [1, 'v']);
    g.output(g.node('Gemm', [X, W, b]), 'Y', 'float32', ['n', 'v']);
    return g.build();
  });
  const out = await engine.run(graph, {
    X: { data: x.data, dims: [x.rows, x.cols] },
    W: { data: w.data, dims: [w.rows, w.cols] },
    b: { data: bias ?? new Float32Array(w.cols), dims: [1, w.cols] },
  });
  return { data: out.Y.data as Float32Array, rows: x.rows, cols: w.cols };
}
