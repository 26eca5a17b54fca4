// Voxelwise ridge regression with per-voxel cross-validated regularisation: the field's baseline
// encoder, computing what himalaya's `solve_ridge_cv_svd` computes (gallantlab/himalaya,
// himalaya/ridge/_random_search.py) with the same folds, scores, alpha selection and refit.
//
// How it is computed (and why it equals himalaya's result):
// himalaya takes, per fold, the SVD Xtr = U S Vt and predicts the validation fold with
// Xval V diag(s / (s^2 + alpha)) U^T Ytr for every alpha. Since Xtr^T Xtr = V S^2 V^T and
// U^T Ytr = S^-1 V^T Xtr^T Ytr, the same predictions are Xval V diag(1 / (s^2 + alpha)) V^T Ztr with
// Ztr = Xtr^T Ytr. Here:
//   - the decomposition is an eigen-decomposition of the d x d Gram Xtr^T Xtr in float64. The Gram
//     is formed in float64 from float32 features (each product of two float32 is exact in float64),
//     so its eigenvalues carry absolute error ~1e-16 * max eigenvalue; a float32 SVD of Xtr would
//     carry ~1e-7 * max singular value, which the smallest alphas (1e-3 in BraInCoRL's grid) amplify.
//   - per-fold Grams and cross-products are downdates of the full ones (Xtr^T Ytr = X^T Y - Xv^T Yv),
//     so X^T Y is computed once, not once per fold.
//   - validation scores never materialise predictions: for each voxel, with b = V^T Ztr,
//     c = V^T Xv^T yv and G = V^T Xv^T Xv V = R^T R (pivoted Cholesky), the validation error is
//     ||yv||^2 - 2 c^T W b + ||R W b||^2 with W = diag(1 / (s^2 + alpha)). R is triangular, so the
//     quadratic term costs about half of a dense d x d product per alpha and voxel.
//   - the big products (X^T Y, V^T Z, R W B) and the per-fold response sums run in float32 in
//     ONNX Runtime (their rounding, ~1e-7 relative, is that of himalaya's own float32 runs);
//     every d x d quantity (Grams, decompositions, G and its factor) is float64; per-voxel score
//     arithmetic is float64.
//   - the float64 half (Grams, decompositions: ridge-plan.ts) runs on a worker thread for large d
//     while this thread computes the cross products of the first voxel batches ahead, so the two
//     halves share the cores instead of taking turns; results are the same either way.
// Edge cases, each decided by an option rather than by accident: Gram eigenvalues at or below
// `rankTolerance` x the largest are exact zeros (an SVD's zero singular values: more features
// than training samples, duplicated features); voxels with constant validation responses score
// `constantTargets`; mean-score ties go to the larger alpha (himalaya adds 1e-10 log(alpha));
// `withinOneSd` keeps himalaya's strict comparison, so a voxel whose best alpha has zero SD over
// folds gets the largest alpha, as in himalaya.
// Centering: himalaya fits no intercept (X and Y must be zero-mean); `fitIntercept: true` follows
// scikit-learn/himalaya `fit_intercept=True`: each training set is centred by its own means (the
// validation fold by the training means), and the refit intercept is mean(Y) - mean(X) @ W.
import { availableParallelism } from 'node:os';
import { ComputeError, check } from './errors';
import { columnMeans, subtractOuter } from './linalg';
import type { Engine } from './onnx/engine';
import { GraphBuilder, type Graph } from './onnx/graph';
import { cachedGraph, type Matrix } from './onnx/kernels';
import { runPlanTask, type FoldPlan, type FoldPlanTask, type GramsTask, type RefitPlan, type RefitPlanTask } from './ridge-plan';
import { planWorkerFit } from './ridge-plan-pool';
import { yieldToEventLoop } from './yield';

const { log, max, sqrt } = Math;

/**
 * How a validation fold is scored (per voxel): `l2_neg_loss` (minus the mean squared error),
 * `r2` (1 - SS_res / SS_tot of the fold) or `correlation` (Pearson r). himalaya's RidgeCV and
 * solve_ridge_cv_svd default to `l2_neg_loss`. The criteria are not interchangeable: the mean over
 * folds of R^2 weighs each fold by 1 / SS_tot, so folds with less response variance count more,
 * and on data whose variance changes across folds the two choose different alphas.
 */
export type RidgeScore = 'r2' | 'correlation' | 'l2_neg_loss';

export interface RidgeCvOptions {
  /** Candidate regularisation strengths, shape (n_alphas,), each >= 0. */
  alphas: readonly number[];
  /**
   * Number of contiguous KFold splits without shuffling (default 5), or the validation index sets,
   * which must partition 0..n_samples-1 (each sample validated exactly once, as KFold/GroupKFold).
   */
  folds?: number | readonly ArrayLike<number>[];
  /** Validation score maximised over alphas. Default 'l2_neg_loss', as himalaya's RidgeCV. */
  score?: RidgeScore;
  /**
   * 'best': the alpha with the highest mean validation score (ties go to the larger alpha).
   * 'withinOneSd': himalaya's `conservative=True`, the largest alpha whose mean score beats the best
   * mean score minus the SD over folds of the best alpha's scores.
   */
  alphaSelection?: 'best' | 'withinOneSd';
  /** scikit-learn semantics (see module comment). Default false, as himalaya. */
  fitIntercept?: boolean;
  /**
   * Voxels processed together; memory is O(n_samples * voxelBatch). Default: as many as keep each
   * engine call near RIDGE_WORK_PER_CALL floating-point operations (see autoVoxelBatch), at most
   * 4096. Each call blocks the calling thread's event loop while it runs, so the bound keeps a
   * worker's timers (queue lock renewal) on schedule whatever the problem size. Results do not
   * depend on it beyond float32 rounding of the products.
   */
  voxelBatch?: number;
  /**
   * Called after each decomposition and after each fold of each voxel batch with the fraction of
   * the estimated work done and what was just finished. Awaited: a callback that throws (a
   * cancelled run) stops the fit there.
   */
  onProgress?: (fraction: number, message: string) => void | Promise<void>;
  /** Checked at the same points as onProgress; an aborted signal stops the fit with its reason. */
  signal?: AbortSignal;
  /**
   * Gram eigenvalues below rankTolerance * (largest eigenvalue) are treated as exact zeros: their
   * directions get no weight, as an SVD with zero singular values gives. Default 1e-12.
   */
  rankTolerance?: number;
  /**
   * Score given to a voxel whose validation responses are constant (R^2 and r undefined):
   * 'zero' as himalaya, or 'nan'.
   */
  constantTargets?: 'zero' | 'nan';
  /**
   * Rows of the triangular factor per block of the quadratic term (memory/speed knob; default 64:
   * at d = 768 and 4096 voxels a fold-score call took 98 ms against 107-110 ms with 128, less
   * arithmetic wasted below the diagonal for about the same GEMM rate).
   */
  quadraticBlockRows?: number;
  /**
   * Feature count from which the d x d decompositions use the blocked engine routes (default: each
   * routine's measured crossover, 160 for the eigen-decomposition, 96 for Cholesky).
   */
  blockedDecompositionsFrom?: number;
  /**
   * Run the d x d decompositions on a worker thread while this thread computes the voxel products
   * (same results). Default: when the host has at least two cores and n_features >= 512, where
   * the six decompositions of a 5-fold fit take about a second (see autoDecompositionsInWorker).
   */
  decompositionsInWorker?: boolean;
}

export interface RidgeCvResult {
  /** Refit weights, shape (n_features, n_voxels), row-major. */
  weights: Float32Array;
  /** Intercept, shape (n_voxels,); zeros when fitIntercept is false. */
  intercept: Float32Array;
  /** Chosen alpha per voxel, shape (n_voxels,). */
  bestAlphas: Float64Array;
  /** Index of the chosen alpha in `alphas`, shape (n_voxels,). */
  bestAlphaIndex: Int32Array;
  /** Validation score averaged over folds, shape (n_alphas, n_voxels), row-major. */
  cvScores: Float64Array;
  /** cvScores at the chosen alpha, shape (n_voxels,). */
  bestCvScores: Float64Array;
  nFeatures: number;
  nVoxels: number;
  /** The voxel batch used (given or chosen by autoVoxelBatch). */
  voxelBatch: number;
  /** Whether the decompositions ran on the worker thread (asked or chosen, and it could start). */
  decompositionsInWorker: boolean;
  /** Wall-clock seconds per phase (for provenance and benchmarks). */
  timings: RidgeTimings;
}

export interface RidgeTimings {
  /** Seconds the fit waited for the feature Grams (all of their time when computed in this thread). */
  grams: number;
  /** Seconds the fit waited for its decompositions (all of their time when they run in this thread). */
  decompositions: number;
  /** Seconds the Grams and decompositions took, on whichever thread ran them. */
  decompositionsComputed: number;
  responses: number;
  crossProducts: number;
  foldScores: number;
  selection: number;
  refit: number;
}

/**
 * Floating-point operations per second one CPU core sustains in the ONNX Runtime float32 products
 * of a fit, a deliberately low figure: measured 150-200 GFLOP/s per core (AVX-512 MatMul at
 * d = 768, 4096 voxels) on a quiet 2-core host, less under load.
 */
export const RIDGE_CORE_FLOPS = 1e11;

/** Seconds one engine call of ridgeCv aims at: short against the worker's lock renewal (7.5 s). */
export const RIDGE_SECONDS_PER_CALL = 0.3;

/** Floating-point operations one engine call aims at on a host with `cores` cores. */
export function ridgeWorkPerCall(cores = availableParallelism()): number {
  return RIDGE_SECONDS_PER_CALL * RIDGE_CORE_FLOPS * Math.max(1, cores);
}

/**
 * The default voxel batch: the largest (at most 4096, at least 32) for which the heaviest per-batch
 * engine call (the cross products, 2 n d per voxel, or one fold's scores, 2 (2 d^2 + n_alphas d^2)
 * per voxel at full rank) stays within ridgeWorkPerCall(cores), i.e. about RIDGE_SECONDS_PER_CALL
 * on this host: batches as large as the bench found fastest (4096 at NSD scale on 2 cores) while
 * each call stays short. A function of the shapes and the core count only, so a retried run on the
 * same host uses the same batches.
 */
export function autoVoxelBatch(nSamples: number, nFeatures: number, nAlphas: number, cores = availableParallelism()): number {
  const perVoxel = Math.max(2 * nSamples * nFeatures, 2 * (2 + nAlphas) * nFeatures * nFeatures, 1);
  return Math.max(32, Math.min(4096, Math.floor(ridgeWorkPerCall(cores) / perVoxel)));
}

/**
 * Whether the decompositions go to the worker thread by default: with a second core to run them,
 * and features enough that they cost more (about 6 x 0.06 s at d = 512, 6 x 0.3 s at d = 768)
 * than handing them over.
 */
export function autoDecompositionsInWorker(nFeatures: number, cores = availableParallelism()): boolean {
  return cores >= 2 && nFeatures >= 512;
}

/** Contiguous KFold without shuffling, as scikit-learn: the first n % k folds get one extra sample. */
export function kFoldValidationSets(nSamples: number, k: number): Int32Array[] {
  check(Number.isInteger(k) && k >= 2 && k <= nSamples, 'INVALID_ARGUMENT', `cannot split ${nSamples} samples into ${k} folds`);
  const sets: Int32Array[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(nSamples / k) + (f < nSamples % k ? 1 : 0);
    sets.push(Int32Array.from({ length: size }, (_, i) => start + i));
    start += size;
  }
  return sets;
}

/**
 * Ridge regression with per-voxel leave-fold-out choice of alpha, then refit on all samples.
 *
 * X : features, shape (n_samples, n_features), float32 row-major.
 * Y : responses, shape (n_samples, n_voxels), float32 row-major.
 * Returns weights (n_features, n_voxels), intercept (n_voxels,), chosen alphas (n_voxels,) and mean
 * validation scores (n_alphas, n_voxels).
 */
export async function ridgeCv(
  engine: Engine,
  X: Matrix<Float32Array>,
  Y: Matrix<Float32Array>,
  options: RidgeCvOptions,
): Promise<RidgeCvResult> {
  const n = X.rows;
  const d = X.cols;
  const v = Y.cols;
  check(Y.rows === n, 'SHAPE_MISMATCH', `X has ${n} samples, Y has ${Y.rows}`);
  check(X.data.length === n * d && Y.data.length === n * v, 'SHAPE_MISMATCH', 'matrix data length does not match its shape');
  const alphas = Float64Array.from(options.alphas);
  const na = alphas.length;
  check(na > 0 && alphas.every((a) => Number.isFinite(a) && a >= 0), 'INVALID_ARGUMENT', 'alphas must be finite and >= 0');
  const score = options.score ?? 'l2_neg_loss';
  const selection = options.alphaSelection ?? 'best';
  const fitIntercept = options.fitIntercept ?? false;
  const voxelBatch = Math.max(1, Math.floor(options.voxelBatch ?? autoVoxelBatch(n, d, na)));
  const rankTolerance = options.rankTolerance ?? 1e-12;
  const constantScore = (options.constantTargets ?? 'zero') === 'zero' ? 0 : Number.NaN;
  const blockRows = Math.max(8, Math.floor(options.quadraticBlockRows ?? 64));

  const timings: RidgeTimings = { grams: 0, decompositions: 0, decompositionsComputed: 0, responses: 0, crossProducts: 0, foldScores: 0, selection: 0, refit: 0 };
  let mark = performance.now();
  const lap = (phase: keyof RidgeTimings) => {
    const now = performance.now();
    timings[phase] += (now - mark) / 1000;
    mark = now;
  };
  const valSets = typeof options.folds === 'object' ? options.folds.map((s) => Int32Array.from(s)) : kFoldValidationSets(n, options.folds ?? 5);
  const perm = foldPermutation(valSets, n);
  const identityOrder = perm.every((p, i) => p === i);
  const nFolds = valSets.length;

  // Progress in units of estimated work, so the reported fraction moves about evenly in time: a
  // decomposition (with its fold's Cholesky) runs at a far lower rate than the batched products
  // (many small calls and JavaScript), measured ~50 d^3 product-equivalents at d = 1024.
  const decompositionWork = 50 * d * d * d;
  const foldWork = (vb: number) => 2 * vb * (2 + na) * d * d + 2 * (n / nFolds) * d * vb;
  const totalWork = (nFolds + 1) * decompositionWork + nFolds * foldWork(v) + 2 * d * d * v;
  let workDone = 0;
  const step = async (work: number, message: string) => {
    workDone += work;
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    await options.onProgress?.(Math.min(1, workDone / totalWork), message);
  };

  // Features in fold order, centred by the global mean when fitting an intercept (as himalaya does
  // before splitting; the per-fold centring below is then exact).
  const xOffset = fitIntercept ? columnMeans(X.data, n, d) : new Float64Array(d);
  const { xp, xp64 } = gatherFeatures(X.data, perm, xOffset, d);
  for (let i = 0; i < xp.length; i++) {
    if (!Number.isFinite(xp[i])) throw new ComputeError('NON_FINITE_INPUT', `features contain a non-finite value (sample ${perm[Math.floor(i / d)]}, feature ${i % d})`);
  }
  await yieldToEventLoop();

  const foldStarts: number[] = [];
  let offset = 0;
  for (const s of valSets) {
    foldStarts.push(offset);
    offset += s.length;
  }
  const blockedFrom = options.blockedDecompositionsFrom;
  // The float64 work (Grams, decompositions) runs on the worker thread when it pays (see
  // decompositionsInWorker), while this thread computes the cross products of the first voxel
  // batches; else here, in order.
  const remote = (options.decompositionsInWorker ?? autoDecompositionsInWorker(d)) ? planWorkerFit() : null;
  const gramsTask: GramsTask = { kind: 'grams', d, x: xp64, foldSizes: valSets.map((s) => s.length) };
  // Handed over, not copied: this thread needs the float64 features no more.
  const gramsPromise = remote ? remote.run(gramsTask, [xp64.buffer as ArrayBuffer]) : runPlanTask(engine, gramsTask);
  let gramsSettled = false;
  gramsPromise.then(() => (gramsSettled = true), () => (gramsSettled = true));

  const settled = new Uint8Array(nFolds + 1);
  const track = <T>(promise: Promise<T>, i: number): Promise<T> => {
    // Handled here so a plan nobody awaits (the fit stopped) is no unhandled rejection.
    promise.then(() => (settled[i] = 1), () => (settled[i] = 1));
    return promise;
  };

  let foldPlans: Promise<FoldPlan>[] = [];
  let refitPlan: Promise<RefitPlan> | null = null;
  const planReported = new Uint8Array(nFolds + 1);
  const plan = async (i: number): Promise<void> => {
    const done = await (i < nFolds ? foldPlans[i] : (refitPlan as Promise<RefitPlan>));
    if (!planReported[i]) {
      planReported[i] = 1;
      timings.decompositionsComputed += done.seconds;
    }
    if (remote && planReported[i] === 1) {
      planReported[i] = 2;
      await step(decompositionWork, i < nFolds ? `decomposed fold ${i + 1} of ${nFolds}` : 'decomposed the refit Gram matrix');
    }
  };

  // Responses of a batch in fold order, gathered into one reused buffer (a fresh n x vb array per
  // batch spent most of its time in page faults); the whole matrix when it is one batch in natural
  // order.
  const nBatches = Math.ceil(v / voxelBatch);
  // Each fold's features transposed, (d, n_f): the cross products are then plain MatMuls, ~10%
  // faster in ONNX Runtime than Gemm with transA (measured at d = 768, n_f = 1800).
  const xFoldsT = valSets.map((set, f) => transposeRows(xp, foldStarts[f], set.length, d));
  let yBuffer: Float32Array | null = null;
  const crossProducts = async (batch: number): Promise<CrossProducts> => {
    const c0 = batch * voxelBatch;
    const vb = Math.min(voxelBatch, v - c0);
    let yb: Float32Array;
    if (vb === v && identityOrder) {
      yb = Y.data;
    } else {
      yBuffer ??= new Float32Array(n * Math.min(voxelBatch, v));
      yb = yBuffer.subarray(0, n * vb);
      gatherColumns(Y.data, perm, v, c0, vb, yb);
    }
    lap('responses');
    const cross = await runCrossProducts(engine, xFoldsT, yb, foldStarts, valSets, n, d, vb, c0, fitIntercept);
    lap('crossProducts');
    return cross;
  };
  // While the worker's results are pending, cross products of later batches are computed ahead, up
  // to a memory bound: each holds (n_folds + 1) d vb floats; together at most twice the response
  // buffer.
  const maxAhead = remote ? Math.max(1, Math.floor((2 * n) / ((nFolds + 1) * d))) : 0;
  const ahead = new Map<number, BatchState>();
  let nextCross = 0;
  const newBatch = async (batch: number): Promise<BatchState> => {
    const c0 = batch * voxelBatch;
    const vb = Math.min(voxelBatch, v - c0);
    const cross = await crossProducts(batch);
    return { c0, vb, cross, scoreSum: new Float64Array(na * vb), scoreSq: new Float64Array(na * vb), foldsDone: 0 };
  };
  // Scores fold state.foldsDone of a batch (folds in order, so the sums are the same whatever
  // the schedule).
  const scoreNextFold = async (state: BatchState): Promise<void> => {
    const f = state.foldsDone;
    const { c0, vb, scoreSum, scoreSq } = state;
    const { zFold, zTotal, sy, syy, syTotal } = state.cross;
    await plan(f);
    const foldPlan = await foldPlans[f];
    const muY = new Float64Array(vb);
    if (fitIntercept) for (let j = 0; j < vb; j++) muY[j] = (syTotal[j] - sy[f][j]) / foldPlan.nTrain;
    const out = await runFoldGraph(engine, foldPlan, zTotal, zFold[f], syTotal, sy[f], muY, fitIntercept, score === 'correlation', d, vb, na);
    accumulateFoldScores(out, sy[f], syy[f], muY, foldPlan.size, na, vb, score, constantScore, scoreSum, scoreSq);
    state.foldsDone++;
    lap('foldScores');
    await step(foldWork(vb), `scored fold ${f + 1} of ${nFolds} for voxels ${c0 + 1}-${c0 + vb} of ${v}`);
    mark = performance.now();
  };
  // While the worker's results are pending: score batches ahead whose next fold's plan is ready,
  // else compute the cross products of another batch ahead (within the memory bound).
  const workAhead = async (isSettled: () => boolean): Promise<void> => {
    while (!isSettled()) {
      let ready: BatchState | undefined;
      for (const state of ahead.values()) {
        if (state.foldsDone < nFolds && settled[state.foldsDone]) {
          ready = state;
          break;
        }
      }
      if (ready) await scoreNextFold(ready);
      else if (ahead.size < maxAhead && nextCross < nBatches) {
        ahead.set(nextCross, await newBatch(nextCross));
        nextCross++;
      } else break;
    }
    mark = performance.now();
  };

  await workAhead(() => gramsSettled);
  const { kVal, sVal, seconds: gramSeconds } = await gramsPromise;
  timings.decompositionsComputed += gramSeconds;
  const kTotal = new Float64Array(d * d);
  const sTotal = new Float64Array(d);
  for (let f = 0; f < nFolds; f++) {
    const k = kVal[f];
    for (let i = 0; i < d * d; i++) kTotal[i] += k[i];
    for (let j = 0; j < d; j++) sTotal[j] += sVal[f][j];
  }
  lap('grams');
  const foldTasks = valSets.map((set, f) => foldPlanTask(d, alphas, kTotal, kVal[f], sTotal, sVal[f], set.length, n - set.length, foldStarts[f], fitIntercept, rankTolerance, blockRows, blockedFrom));
  kVal.length = 0;
  // Refit Gram on all samples, decomposed with the fold Grams.
  const kAll = Float64Array.from(kTotal);
  if (fitIntercept) subtractOuter(kAll, sTotal, sTotal, 1 / n, d);
  const refitTask: RefitPlanTask = { kind: 'refit', d, k: kAll, sTotal, n, rankTolerance, blockedFrom };

  if (remote) {
    foldPlans = foldTasks.map((t, f) => track(remote.run(t), f));
    refitPlan = track(remote.run(refitTask), nFolds);
  } else {
    const plans: FoldPlan[] = [];
    for (let f = 0; f < nFolds; f++) {
      plans.push(await runPlanTask(engine, foldTasks[f]));
      await step(decompositionWork, `decomposed fold ${f + 1} of ${nFolds}`);
    }
    const refit = await runPlanTask(engine, refitTask);
    await step(decompositionWork, 'decomposed the refit Gram matrix');
    foldPlans = plans.map((p, f) => track(Promise.resolve(p), f));
    refitPlan = track(Promise.resolve(refit), nFolds);
  }
  foldTasks.length = 0;
  lap('decompositions');

  const weights = new Float32Array(d * v);
  const intercept = new Float32Array(v);
  const bestAlphas = new Float64Array(v);
  const bestAlphaIndex = new Int32Array(v);
  const cvScores = new Float64Array(na * v);
  const bestCvScores = new Float64Array(v);

  const awaitPlan = async (i: number): Promise<void> => {
    await workAhead(() => settled[i] === 1);
    await plan(i);
    lap('decompositions');
  };

  try {
    for (let batch = 0; batch < nBatches; batch++) {
      let state = ahead.get(batch);
      ahead.delete(batch);
      if (!state) {
        state = await newBatch(batch);
        nextCross = batch + 1;
      }
      while (state.foldsDone < nFolds) {
        await awaitPlan(state.foldsDone);
        await scoreNextFold(state);
      }
      const { c0, vb, scoreSum, scoreSq } = state;
      const { zTotal, syTotal, yOffset } = state.cross;

      // Alpha per voxel, as himalaya's _select_best_alphas (local_alpha=True).
      const chosenAlpha = new Float32Array(vb);
      selectAlphas(scoreSum, scoreSq, nFolds, alphas, selection, c0, vb, v, { cvScores, bestAlphaIndex, bestAlphas, bestCvScores, chosenAlpha });
      lap('selection');
      await awaitPlan(nFolds);
      const refit = await (refitPlan as Promise<RefitPlan>);
      // Refit with each voxel's alpha: W = V diag(1 / (s^2 + alpha_v)) V^T (X^T Y).
      const w = await runRefitGraph(engine, refit.vt, refit.s2, refit.vtSOverN, zTotal, syTotal, chosenAlpha, fitIntercept, refit.rank, d, vb);
      for (let k = 0; k < d; k++) weights.set(w.subarray(k * vb, (k + 1) * vb), k * v + c0);
      if (fitIntercept) interceptFromOffsets(yOffset, xOffset, w, d, vb, intercept, c0);
      lap('refit');
      await step(2 * d * d * vb, `refit voxels ${c0 + 1}-${c0 + vb} of ${v}`);
      await yieldToEventLoop();
      mark = performance.now();
    }
  } finally {
    // A fit that stopped early leaves its queued decompositions undone.
    if (remote && settled.some((x) => !x)) remote.cancel();
  }

  return { weights, intercept, bestAlphas, bestAlphaIndex, cvScores, bestCvScores, nFeatures: d, nVoxels: v, voxelBatch, decompositionsInWorker: remote !== null, timings };
}

// Hot loops live in small functions: V8 optimises those after a few calls, while loops inside
// one large async function run interpreted until on-stack replacement, which small problems
// (BraInCoRL-style fits on ~100 stimuli, called many times) never reach.

/** Rows of X in `perm` order minus `offset`, as float32 and as the same values in float64. */
function gatherFeatures(x: Float32Array, perm: Int32Array, offset: Float64Array, d: number): { xp: Float32Array; xp64: Float64Array } {
  const n = perm.length;
  const xp = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const src = perm[i] * d;
    const dst = i * d;
    for (let j = 0; j < d; j++) xp[dst + j] = x[src + j] - offset[j];
  }
  // The Gram is formed from exactly the float32 values the products see.
  return { xp, xp64: Float64Array.from(xp) };
}

/** Adds one fold's per-voxel scores for every alpha to scoreSum/scoreSq, (n_alphas, vb). */
function accumulateFoldScores(
  out: { cross: Float32Array; quad: Float32Array; psum: Float32Array | null },
  sy: Float64Array,
  syy: Float64Array,
  muY: Float64Array,
  nv: number,
  na: number,
  vb: number,
  score: RidgeScore,
  constantScore: number,
  scoreSum: Float64Array,
  scoreSq: Float64Array,
): void {
  for (let j = 0; j < vb; j++) {
    const m = muY[j];
    const syc = sy[j] - nv * m;
    const yyc = syy[j] - 2 * m * sy[j] + nv * m * m;
    const ssTot = max(yyc - (syc * syc) / nv, 0);
    const constant = !(ssTot > 1e-30 * max(yyc, 1e-300));
    for (let a = 0; a < na; a++) {
      const idx = a * vb + j;
      const cross = out.cross[idx];
      const quad = out.quad[idx];
      let s: number;
      if (score === 'l2_neg_loss') {
        s = -max(yyc - 2 * cross + quad, 0) / nv;
      } else if (constant) {
        s = constantScore;
      } else if (score === 'r2') {
        s = 1 - max(yyc - 2 * cross + quad, 0) / ssTot;
      } else {
        const psum = (out.psum as Float32Array)[idx];
        const cov = cross - (syc * psum) / nv;
        const varP = quad - (psum * psum) / nv;
        s = varP > 0 ? cov / sqrt(varP * ssTot) : 0;
      }
      scoreSum[idx] += s;
      scoreSq[idx] += s * s;
    }
  }
}

/**
 * Alpha per voxel from fold-summed scores, as himalaya's _select_best_alphas (local_alpha=True):
 * mean over folds plus 1e-10 log(alpha) (ties go to larger alphas), argmax; with 'withinOneSd' the
 * largest alpha whose mean beats (best mean - SD over folds of the best alpha's scores).
 */
function selectAlphas(
  scoreSum: Float64Array,
  scoreSq: Float64Array,
  nFolds: number,
  alphas: Float64Array,
  selection: 'best' | 'withinOneSd',
  c0: number,
  vb: number,
  v: number,
  out: { cvScores: Float64Array; bestAlphaIndex: Int32Array; bestAlphas: Float64Array; bestCvScores: Float64Array; chosenAlpha: Float32Array },
): void {
  const na = alphas.length;
  const tieBreak = Float64Array.from(alphas, (a) => log(a) * 1e-10);
  for (let j = 0; j < vb; j++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let a = 0; a < na; a++) {
      const mean = scoreSum[a * vb + j] / nFolds;
      out.cvScores[a * v + c0 + j] = mean;
      const value = mean + tieBreak[a];
      if (value > bestValue) {
        bestValue = value;
        best = a;
      }
    }
    if (selection === 'withinOneSd') {
      const mean = scoreSum[best * vb + j] / nFolds;
      const sd = sqrt(max(scoreSq[best * vb + j] / nFolds - mean * mean, 0));
      const toBeat = bestValue - sd;
      let chosen = 0;
      let chosenValue = -Infinity;
      for (let a = 0; a < na; a++) {
        const beats = scoreSum[a * vb + j] / nFolds + tieBreak[a] > toBeat ? 1 : 0;
        const value = beats + log(alphas[a]) * 1e-4;
        if (value > chosenValue) {
          chosenValue = value;
          chosen = a;
        }
      }
      best = chosen;
    }
    out.bestAlphaIndex[c0 + j] = best;
    out.bestAlphas[c0 + j] = alphas[best];
    out.bestCvScores[c0 + j] = out.cvScores[best * v + c0 + j];
    out.chosenAlpha[j] = alphas[best];
  }
}

/** intercept[c0 + j] = yOffset[j] - xOffset . W[:, j] for a (d, vb) weight block. */
function interceptFromOffsets(yOffset: Float64Array, xOffset: Float64Array, w: Float32Array, d: number, vb: number, intercept: Float32Array, c0: number): void {
  const acc = Float64Array.from(yOffset);
  for (let k = 0; k < d; k++) {
    const xk = xOffset[k];
    if (xk === 0) continue;
    const row = k * vb;
    for (let j = 0; j < vb; j++) acc[j] -= xk * w[row + j];
  }
  intercept.set(acc, c0);
}

/** Sample order in which every validation fold is one contiguous block. */
function foldPermutation(valSets: Int32Array[], n: number): Int32Array {
  check(valSets.length >= 2, 'INVALID_ARGUMENT', 'need at least two folds');
  const seen = new Uint8Array(n);
  const perm = new Int32Array(n);
  let k = 0;
  for (const s of valSets) {
    check(s.length > 0, 'INVALID_ARGUMENT', 'empty validation fold');
    for (const i of s) {
      check(Number.isInteger(i) && i >= 0 && i < n && !seen[i], 'INVALID_ARGUMENT', 'validation folds must partition 0..n_samples-1');
      seen[i] = 1;
      perm[k++] = i;
    }
  }
  check(k === n, 'INVALID_ARGUMENT', 'validation folds must partition 0..n_samples-1');
  return perm;
}

/** The fold's Grams and sums from the totals: training = total - validation, centred on request. */
function foldPlanTask(
  d: number,
  alphas: Float64Array,
  kTotal: Float64Array,
  kValRaw: Float64Array,
  sTotal: Float64Array,
  sVal: Float64Array,
  nVal: number,
  nTrain: number,
  start: number,
  fitIntercept: boolean,
  rankTolerance: number,
  blockRows: number,
  blockedFrom: number | undefined,
): FoldPlanTask {
  const sTrain = new Float64Array(d);
  for (let j = 0; j < d; j++) sTrain[j] = sTotal[j] - sVal[j];
  const kTrain = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) kTrain[i] = kTotal[i] - kValRaw[i];
  // Validation Gram, centred by the training mean: Kv - mu sv^T - sv mu^T + nv mu mu^T.
  const kVal = Float64Array.from(kValRaw);
  const sValCentred = Float64Array.from(sVal);
  if (fitIntercept) {
    subtractOuter(kTrain, sTrain, sTrain, 1 / nTrain, d);
    const mu = Float64Array.from(sTrain, (x) => x / nTrain);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) kVal[i * d + j] += -mu[i] * sVal[j] - sVal[i] * mu[j] + nVal * mu[i] * mu[j];
    }
    for (let j = 0; j < d; j++) sValCentred[j] -= nVal * mu[j];
  }
  return { kind: 'fold', d, alphas, kTrain, kVal, sTrain, sVal, sValCentred, nVal, nTrain, start, rankTolerance, blockRows, blockedFrom };
}

/** Rows start..start+rows of x (n, d), transposed to (d, rows). */
function transposeRows(x: Float32Array, start: number, rows: number, d: number): Float32Array {
  const out = new Float32Array(d * rows);
  for (let i = 0; i < rows; i++) {
    const src = (start + i) * d;
    for (let j = 0; j < d; j++) out[j * rows + i] = x[src + j];
  }
  return out;
}

/** Rows perm[i] of columns c0..c0+vb of Y (n, v) into out (n, vb). */
function gatherColumns(y: Float32Array, perm: Int32Array, v: number, c0: number, vb: number, out: Float32Array): void {
  const n = perm.length;
  for (let i = 0; i < n; i++) {
    const src = perm[i] * v + c0;
    out.set(y.subarray(src, src + vb), i * vb);
  }
}

interface BatchState {
  c0: number;
  vb: number;
  cross: CrossProducts;
  scoreSum: Float64Array; // (n_alphas, vb) fold scores summed over the folds done
  scoreSq: Float64Array;
  foldsDone: number;
}

interface CrossProducts {
  zFold: Float32Array[]; // per fold (d, vb): X_f^T Y_f
  zTotal: Float32Array; // (d, vb)
  sy: Float64Array[]; // per fold (vb,): column sums of the (centred) responses
  syy: Float64Array[]; // per fold (vb,): their sums of squares
  syTotal: Float64Array;
  yOffset: Float64Array; // (vb,) response means when fitting an intercept, else zeros
}

/**
 * One engine call: centring (when fitting an intercept), Z_f = X_f^T Y_f per fold, their sum X^T Y,
 * and per-fold sums and sums of squares of the (centred) responses. Refuses non-finite responses.
 */
async function runCrossProducts(
  engine: Engine,
  xFoldsT: Float32Array[],
  yb: Float32Array,
  foldStarts: number[],
  valSets: Int32Array[],
  n: number,
  d: number,
  vb: number,
  c0: number,
  fitIntercept: boolean,
): Promise<CrossProducts> {
  const nFolds = valSets.length;
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
  for (let f = 0; f < nFolds; f++) {
    const start = foldStarts[f];
    const size = valSets[f].length;
    feeds[`Xt${f}`] = { data: xFoldsT[f], dims: [d, size] };
    feeds[`Y${f}`] = { data: yb.subarray(start * vb, (start + size) * vb), dims: [size, vb] };
  }
  const out = await engine.run(crossProductGraph(nFolds, n, fitIntercept), feeds);
  const zFold = valSets.map((_, f) => out[`Z${f}`].data as Float32Array);
  const sy = valSets.map((_, f) => Float64Array.from(out[`sy${f}`].data as Float32Array));
  const syy = valSets.map((_, f) => Float64Array.from(out[`syy${f}`].data as Float32Array));
  const syTotal = new Float64Array(vb);
  for (const s of sy) for (let k = 0; k < vb; k++) syTotal[k] += s[k];
  const yOffset = fitIntercept ? Float64Array.from(out.yOffset.data as Float32Array) : new Float64Array(vb);
  // Non-finite responses would poison every score of their voxel silently: refuse them (the sums
  // of squares, free here, are finite exactly when the voxel's responses are).
  for (const ss of syy) {
    const bad = ss.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new ComputeError('NON_FINITE_INPUT', `responses of voxel ${c0 + bad} contain a non-finite value (or overflow float32 squares)`);
  }
  return { zFold, zTotal: out.Ztot.data as Float32Array, sy, syy, syTotal, yOffset };
}

/**
 * For row blocks (X_f, Y_f), f < nFolds, given as Xt_f = X_f^T (d, n_f) and Y_f (n_f, v):
 * Z_f = X_f^T Y_f (d, v), Ztot = sum_f Z_f, and sy_f, syy_f (v,), the column sums and sums of
 * squares of Y_f. With `centre`, every Y_f is first centred by the column means over all nSamples
 * rows, returned as yOffset (1, v). Blocks are separate inputs so the caller passes views of its
 * arrays.
 */
function crossProductGraph(nFolds: number, nSamples: number, centre: boolean): Graph {
  return cachedGraph(`ridge:cross_products_t:${nFolds}:${nSamples}:${centre}`, () => {
    const g = new GraphBuilder('ridge_cross_products');
    const xs = Array.from({ length: nFolds }, (_, f) => g.input(`Xt${f}`, 'float32', ['d', `n${f}`]));
    let ys = Array.from({ length: nFolds }, (_, f) => g.input(`Y${f}`, 'float32', [`n${f}`, 'v']));
    if (centre) {
      const sums = ys.map((y) => g.node('ReduceSum', [y, g.ints([0])], { keepdims: 1 }));
      const total = sums.length === 1 ? sums[0] : g.node('Sum', sums);
      const mean = g.output(g.node('Div', [total, g.constant([nSamples], 'float32', [1])]), 'yOffset', 'float32', [1, 'v']);
      ys = ys.map((y) => g.node('Sub', [y, mean]));
    }
    const parts = ys.map((y, f) => {
      g.output(g.node('ReduceSum', [y, g.ints([0])], { keepdims: 0 }), `sy${f}`, 'float32', ['v']);
      // Mul + ReduceSum: ReduceSumSquare over rows is ~6x slower in ONNX Runtime 1.30 (measured
      // 440 ms against 75 ms for five 1800 x 4096 folds).
      g.output(g.node('ReduceSum', [g.node('Mul', [y, y]), g.ints([0])], { keepdims: 0 }), `syy${f}`, 'float32', ['v']);
      return g.output(g.node('MatMul', [xs[f], y]), `Z${f}`, 'float32', ['d', 'v']);
    });
    g.output(parts.length === 1 ? g.node('Identity', parts) : g.node('Sum', parts), 'Ztot', 'float32', ['d', 'v']);
    return g.build();
  });
}

/**
 * Per-fold validation statistics for all alphas at once.
 * Inputs: Ztot, Zf (d, v); Vt (r, d); Wt (n_alphas, r); R_i (n_alphas*rows_i, r-start_i) stacked
 * R W_alpha blocks; when `centred`, the rank-1/2 centring corrections bA (r,1) bB (1,v), cA (r,2)
 * cB (2,v) (left out otherwise: two outer products and sums over (r, v) per call saved); with
 * `withPsum` (the correlation score only), Wm (n_alphas, r).
 * Outputs (n_alphas, v): cross = c^T W b, quad = ||R W b||^2, psum = m^T W b.
 */
function foldScoreGraph(na: number, r: number, blocks: [number, number][], centred: boolean, withPsum: boolean): Graph {
  const key = `ridge:fold_scores:${na}:${r}:${blocks.map((b) => b.join('+')).join(',')}:${centred}:${withPsum}`;
  return cachedGraph(key, () => {
    const g = new GraphBuilder('ridge_fold_scores');
    const zTot = g.input('Ztot', 'float32', ['d', 'v']);
    const zF = g.input('Zf', 'float32', ['d', 'v']);
    const vt = g.input('Vt', 'float32', [r, 'd']);
    const wt = g.input('Wt', 'float32', [na, r]);
    let b = g.node('MatMul', [vt, g.node('Sub', [zTot, zF])]);
    let c = g.node('MatMul', [vt, zF]);
    if (centred) {
      const bA = g.input('bA', 'float32', [r, 1]);
      const bB = g.input('bB', 'float32', [1, 'v']);
      const cA = g.input('cA', 'float32', [r, 2]);
      const cB = g.input('cB', 'float32', [2, 'v']);
      b = g.node('Add', [b, g.node('MatMul', [bA, bB])]);
      c = g.node('Add', [c, g.node('MatMul', [cA, cB])]);
    }
    g.output(g.node('MatMul', [wt, g.node('Mul', [c, b])]), 'cross', 'float32', [na, 'v']);
    if (withPsum) g.output(g.node('MatMul', [g.input('Wm', 'float32', [na, r]), b]), 'psum', 'float32', [na, 'v']);
    const parts: string[] = [];
    blocks.forEach(([start, rows], i) => {
      const rb = g.input(`R${i}`, 'float32', [na * rows, r - start]);
      const bSlice = start === 0 ? b : g.node('Slice', [b, g.ints([start]), g.ints([r]), g.ints([0])]);
      const prod = g.node('MatMul', [rb, bSlice]);
      const shaped = g.node('Reshape', [prod, g.ints([na, rows, -1])]);
      // Mul + ReduceSum, not ReduceSumSquare: ONNX Runtime 1.30 has no fast path for the latter
      // over a middle axis (measured 130 ms against 30 ms per fold call at d = 768, 4096 voxels).
      parts.push(g.node('ReduceSum', [g.node('Mul', [shaped, shaped]), g.ints([1])], { keepdims: 0 }));
    });
    g.output(parts.length === 1 ? parts[0] : g.node('Sum', parts), 'quad', 'float32', [na, 'v']);
    return g.build();
  });
}

async function runFoldGraph(
  engine: Engine,
  plan: FoldPlan,
  zTotal: Float32Array,
  zFold: Float32Array,
  syTotal: Float64Array,
  syFold: Float64Array,
  muY: Float64Array,
  fitIntercept: boolean,
  withPsum: boolean,
  d: number,
  vb: number,
  na: number,
): Promise<{ cross: Float32Array; quad: Float32Array; psum: Float32Array | null }> {
  const r = plan.rank;
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {
    Ztot: { data: zTotal, dims: [d, vb] },
    Zf: { data: zFold, dims: [d, vb] },
    Vt: { data: plan.vt, dims: [r, d] },
    Wt: { data: plan.weightsByAlpha, dims: [na, r] },
  };
  if (withPsum) feeds.Wm = { data: plan.weightsTimesM, dims: [na, r] };
  if (fitIntercept) {
    // Ztr' = Ztr - sTrain syTrain^T / nTrain, so V^T Ztr' = V^T Ztr - (V^T sTrain / nTrain) syTrain^T.
    // Zv'  = Zv - mu (syVal - nVal muY)^T - sVal muY^T with mu = sTrain / nTrain.
    const bA = new Float32Array(r);
    const bB = new Float32Array(vb);
    const cA = new Float32Array(r * 2);
    const cB = new Float32Array(2 * vb);
    for (let k = 0; k < r; k++) {
      bA[k] = -plan.vtSTrainOverN[k];
      cA[2 * k] = -plan.vtSTrainOverN[k];
      cA[2 * k + 1] = -plan.vtSVal[k];
    }
    for (let j = 0; j < vb; j++) {
      bB[j] = syTotal[j] - syFold[j];
      cB[j] = syFold[j] - plan.size * muY[j];
      cB[vb + j] = muY[j];
    }
    feeds.bA = { data: bA, dims: [r, 1] };
    feeds.bB = { data: bB, dims: [1, vb] };
    feeds.cA = { data: cA, dims: [r, 2] };
    feeds.cB = { data: cB, dims: [2, vb] };
  }
  plan.rBlocks.forEach((blk, i) => {
    feeds[`R${i}`] = { data: blk.data, dims: [na * blk.rows, r - blk.rowStart] };
  });
  const graph = foldScoreGraph(na, r, plan.rBlocks.map((blk) => [blk.rowStart, blk.rows]), fitIntercept, withPsum);
  const out = await engine.run(graph, feeds);
  return { cross: out.cross.data as Float32Array, quad: out.quad.data as Float32Array, psum: withPsum ? (out.psum.data as Float32Array) : null };
}

function refitGraph(): Graph {
  return cachedGraph('ridge:refit', () => {
    const g = new GraphBuilder('ridge_refit');
    const vt = g.input('Vt', 'float32', ['r', 'd']);
    const z = g.input('Z', 'float32', ['d', 'v']);
    const cA = g.input('cA', 'float32', ['r', 1]);
    const cB = g.input('cB', 'float32', [1, 'v']);
    const s2 = g.input('s2', 'float32', ['r', 1]);
    const alpha = g.input('alpha', 'float32', [1, 'v']);
    const b = g.node('Add', [g.node('MatMul', [vt, z]), g.node('MatMul', [cA, cB])]);
    const scale = g.node('Reciprocal', [g.node('Add', [s2, alpha])]);
    g.output(g.node('Gemm', [vt, g.node('Mul', [b, scale])], { transA: 1 }), 'W', 'float32', ['d', 'v']);
    return g.build();
  });
}

async function runRefitGraph(
  engine: Engine,
  vt: Float32Array,
  s2: Float32Array,
  vtSOverN: Float64Array,
  zTotal: Float32Array,
  syTotal: Float64Array,
  alpha: Float32Array,
  fitIntercept: boolean,
  r: number,
  d: number,
  vb: number,
): Promise<Float32Array> {
  const cA = new Float32Array(r);
  const cB = new Float32Array(vb);
  if (fitIntercept) {
    for (let k = 0; k < r; k++) cA[k] = -vtSOverN[k];
    for (let j = 0; j < vb; j++) cB[j] = syTotal[j];
  }
  const out = await engine.run(refitGraph(), {
    Vt: { data: vt, dims: [r, d] },
    Z: { data: zTotal, dims: [d, vb] },
    cA: { data: cA, dims: [r, 1] },
    cB: { data: cB, dims: [1, vb] },
    s2: { data: s2, dims: [r, 1] },
    alpha: { data: alpha, dims: [1, vb] },
  });
  return out.W.data as Float32Array;
}
