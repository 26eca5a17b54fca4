// The d x d, float64 half of ridgeCv (src/compute/ridge.ts): the per-fold feature Grams; per fold,
// the eigen-decomposition of
// the training Gram, the validation Gram in its eigenbasis and that matrix's pivoted Cholesky
// factor, stacked as the float32 blocks the fold-score products take; and the refit Gram's
// decomposition. Tasks and results are plain typed arrays and numbers, so they run unchanged in
// this thread or in the decomposition worker (ridge-plan-pool.ts) while the voxel products run here.
import { pivotedCholeskyBlocked } from './cholesky';
import { symmetricEigenBlocked } from './eigen';
import { ComputeError } from './errors';
import { columnSums, matVec } from './linalg';
import type { Engine } from './onnx/engine';
import { gemm, gram } from './onnx/kernels';

export interface FoldPlanTask {
  kind: 'fold';
  d: number;
  alphas: Float64Array;
  kTrain: Float64Array; // (d, d) training Gram, centred when fitting an intercept
  kVal: Float64Array; // (d, d) validation Gram, centred by the training mean
  sTrain: Float64Array; // (d,) column sums of the training features
  sVal: Float64Array; // (d,) column sums of the validation features
  sValCentred: Float64Array; // (d,) sVal centred by the training mean
  nVal: number;
  nTrain: number;
  start: number;
  rankTolerance: number;
  blockRows: number;
  blockedFrom?: number;
}

export interface RefitPlanTask {
  kind: 'refit';
  d: number;
  k: Float64Array; // (d, d) Gram of all samples (centred when fitting an intercept)
  sTotal: Float64Array; // (d,)
  n: number;
  rankTolerance: number;
  blockedFrom?: number;
}

export interface GramsTask {
  kind: 'grams';
  d: number;
  x: Float64Array; // (n, d) features in fold order (each fold a contiguous block of rows)
  foldSizes: number[];
}

export interface FoldGrams {
  kVal: Float64Array[]; // per fold (d, d): X_f^T X_f
  sVal: Float64Array[]; // per fold (d,): column sums of X_f
  seconds: number;
}

export type PlanTask = GramsTask | FoldPlanTask | RefitPlanTask;

export interface FoldPlan {
  start: number; // first row of the fold in the permuted order
  size: number;
  nTrain: number;
  rank: number; // kept eigen-components (r)
  vt: Float32Array; // (r, d) eigenvectors as rows, in pivoted order
  sTrain: Float64Array; // (d,) column sums of the (globally centred) training features
  sVal: Float64Array; // (d,) column sums of the validation features
  vtSTrainOverN: Float64Array; // (r,) V^T sTrain / nTrain
  vtSVal: Float64Array; // (r,) V^T sVal
  weightsByAlpha: Float32Array; // (n_alphas, r): 1 / (s^2 + alpha)
  weightsTimesM: Float32Array; // (n_alphas, r): weightsByAlpha * (V^T centred validation column sums)
  rBlocks: { rowStart: number; rows: number; data: Float32Array }[]; // stacked R W_alpha blocks
  seconds: number; // time this task took, on whichever thread ran it
}

export interface RefitPlan {
  rank: number;
  vt: Float32Array; // (r, d)
  s2: Float32Array; // (r,) eigenvalues
  vtSOverN: Float64Array; // (r,) V^T sTotal / n
  seconds: number;
}

export async function runPlanTask(engine: Engine, task: GramsTask): Promise<FoldGrams>;
export async function runPlanTask(engine: Engine, task: FoldPlanTask): Promise<FoldPlan>;
export async function runPlanTask(engine: Engine, task: RefitPlanTask): Promise<RefitPlan>;
export async function runPlanTask(engine: Engine, task: PlanTask): Promise<FoldGrams | FoldPlan | RefitPlan>;
export async function runPlanTask(engine: Engine, task: PlanTask): Promise<FoldGrams | FoldPlan | RefitPlan> {
  const t0 = performance.now();
  if (task.kind === 'grams') {
    const { d, x } = task;
    const kVal: Float64Array[] = [];
    const sVal: Float64Array[] = [];
    let start = 0;
    for (const rows of task.foldSizes) {
      const block = x.subarray(start * d, (start + rows) * d);
      kVal.push((await gram(engine, { data: block, rows, cols: d })).data);
      sVal.push(columnSums(block, rows, d));
      start += rows;
    }
    return { kVal, sVal, seconds: (performance.now() - t0) / 1000 };
  }
  if (task.kind === 'refit') {
    const eig = await truncatedEigen(engine, task.k, task.d, task.rankTolerance, task.blockedFrom);
    const vtSOverN = matVec(eig.vt, task.sTotal, eig.rank, task.d, 1 / task.n);
    return { rank: eig.rank, vt: Float32Array.from(eig.vt), s2: Float32Array.from(eig.values), vtSOverN, seconds: (performance.now() - t0) / 1000 };
  }
  const plan = await planFold(engine, task);
  plan.seconds = (performance.now() - t0) / 1000;
  return plan;
}

interface TruncatedEigen {
  values: Float64Array; // (r,) ascending
  vt: Float64Array; // (r, d) eigenvectors as rows
  rank: number;
}

/** Eigen-decomposition keeping components with eigenvalue > tol * max (and > 0). */
async function truncatedEigen(engine: Engine, k: Float64Array, d: number, tol: number, blockedFrom?: number): Promise<TruncatedEigen> {
  const { values, first, vectorsT } = await symmetricEigenBlocked(engine, k, d, { minEigenvalueRelative: tol, minEigenvalue: 0, blockedFrom });
  const rank = d - first;
  if (rank === 0) throw new ComputeError('INVALID_ARGUMENT', 'features are all zero (Gram matrix has rank 0)');
  return { values: values.slice(first), vt: vectorsT, rank };
}

async function planFold(engine: Engine, p: FoldPlanTask): Promise<FoldPlan> {
  const { d, alphas, nVal, nTrain, kVal, sTrain, sValCentred } = p;
  const na = alphas.length;
  const eig = await truncatedEigen(engine, p.kTrain, d, p.rankTolerance, p.blockedFrom);
  const r = eig.rank;
  // G = V^T Kval V (r x r), factor G[piv][:, piv] = R^T R.
  const vt64 = { data: eig.vt, rows: r, cols: d };
  const kv = (await gemm(engine, vt64, { data: kVal, rows: d, cols: d })).data; // (r, d)
  const g = (await gemm(engine, { data: kv, rows: r, cols: d }, vt64, { transB: true })).data; // (r, r)
  const chol = await pivotedCholeskyBlocked(engine, g, r, { blockedFrom: p.blockedFrom });
  const piv = chol.piv;
  // Reorder components by the pivot so R is upper-trapezoidal in component order.
  const vt64p = new Float64Array(r * d);
  const s2 = new Float64Array(r);
  for (let k = 0; k < r; k++) {
    const src = piv[k];
    vt64p.set(eig.vt.subarray(src * d, src * d + d), k * d);
    s2[k] = eig.values[src];
  }
  const weightsByAlpha64 = new Float64Array(na * r);
  for (let a = 0; a < na; a++) for (let k = 0; k < r; k++) weightsByAlpha64[a * r + k] = 1 / (s2[k] + alphas[a]);
  const m = matVec(vt64p, sValCentred, r, d, 1);
  const weightsTimesM = new Float32Array(na * r);
  for (let i = 0; i < na * r; i++) weightsTimesM[i] = weightsByAlpha64[i] * m[i % r];
  return {
    start: p.start,
    size: nVal,
    nTrain,
    rank: r,
    vt: Float32Array.from(vt64p),
    sTrain,
    sVal: p.sVal,
    vtSTrainOverN: matVec(vt64p, sTrain, r, d, 1 / nTrain),
    vtSVal: matVec(vt64p, p.sVal, r, d, 1),
    weightsByAlpha: Float32Array.from(weightsByAlpha64),
    weightsTimesM,
    rBlocks: stackTriangularBlocks(chol.r, chol.rank, r, weightsByAlpha64, na, p.blockRows),
    seconds: 0,
  };
}

/**
 * Row blocks of R W_alpha for all alphas: block i holds rows [start, start + rows) of R and columns
 * [start, r) (R is upper-trapezoidal), stacked over alphas as (n_alphas * rows, r - start), columns
 * scaled by weights[a, k] = 1 / (s_k^2 + alpha_a).
 */
function stackTriangularBlocks(R: Float64Array, rank: number, r: number, weights: Float64Array, na: number, blockRows: number): FoldPlan['rBlocks'] {
  const blocks: FoldPlan['rBlocks'] = [];
  for (let rowStart = 0; rowStart < rank; rowStart += blockRows) {
    const rows = Math.min(blockRows, rank - rowStart);
    const cols = r - rowStart;
    const data = new Float32Array(na * rows * cols);
    for (let a = 0; a < na; a++) {
      const w = a * r + rowStart;
      for (let i = 0; i < rows; i++) {
        const src = (rowStart + i) * r + rowStart;
        const dst = (a * rows + i) * cols;
        for (let k = i; k < cols; k++) data[dst + k] = R[src + k] * weights[w + k];
      }
    }
    blocks.push({ rowStart, rows, data });
  }
  return blocks;
}
