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
// Edge cases, each decided by an option rather than by accident: Gram eigenvalues at or below
// `rankTolerance` x the largest are exact zeros (an SVD's zero singular values: more features
// than training samples, duplicated features); voxels with constant validation responses score
// `constantTargets`; mean-score ties go to the larger alpha (himalaya adds 1e-10 log(alpha));
// `withinOneSd` keeps himalaya's strict comparison, so a voxel whose best alpha has zero SD over
// folds gets the largest alpha, as in himalaya.
// Centering: himalaya fits no intercept (X and Y must be zero-mean); `fitIntercept: true` follows
// scikit-learn/himalaya `fit_intercept=True`: each training set is centred by its own means (the
// validation fold by the training means), and the refit intercept is mean(Y) - mean(X) @ W.
import { ComputeError, check } from './errors';
import { symmetricEigenMany } from './eigen';
import { pivotedCholeskyBlocked } from './cholesky';
import type { Engine } from './onnx/engine';
import { GraphBuilder, type Graph } from './onnx/graph';
import { cachedGraph, gemm, gram, type Matrix } from './onnx/kernels';
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
  /** Rows of the triangular factor per block of the quadratic term (memory/speed knob). */
  quadraticBlockRows?: number;
  /**
   * Feature count from which the d x d decompositions use the blocked engine routes (default: each
   * routine's measured crossover, 160 for the eigen-decomposition, 96 for Cholesky).
   */
  blockedDecompositionsFrom?: number;
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
  /** Wall-clock seconds per phase (for provenance and benchmarks). */
  timings: RidgeTimings;
}

export interface RidgeTimings {
  grams: number;
  decompositions: number;
  responses: number;
  crossProducts: number;
  foldScores: number;
  selection: number;
  refit: number;
}

/** Floating-point operations one engine call of ridgeCv aims at (about 0.1-0.3 s on one CPU core pair). */
export const RIDGE_WORK_PER_CALL = 4e9;

/**
 * The default voxel batch: the largest (at most 4096, at least 32) for which the heaviest per-batch
 * engine call (the cross products, 2 n d per voxel, or one fold's scores, 2 (2 d^2 + n_alphas d^2)
 * per voxel at full rank) stays within RIDGE_WORK_PER_CALL. A function of the shapes only, so a
 * retried run uses the same batches.
 */
export function autoVoxelBatch(nSamples: number, nFeatures: number, nAlphas: number): number {
  const perVoxel = Math.max(2 * nSamples * nFeatures, 2 * (2 + nAlphas) * nFeatures * nFeatures, 1);
  return Math.max(32, Math.min(4096, Math.floor(RIDGE_WORK_PER_CALL / perVoxel)));
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

interface FoldPlan {
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
  graph: Graph;
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
  const blockRows = Math.max(8, Math.floor(options.quadraticBlockRows ?? 128));

  const timings: RidgeTimings = { grams: 0, decompositions: 0, responses: 0, crossProducts: 0, foldScores: 0, selection: 0, refit: 0 };
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
  const xOffset = new Float64Array(d);
  if (fitIntercept) columnMeans(X.data, n, d, xOffset);
  const { xp, xp64 } = gatherFeatures(X.data, perm, xOffset, d);
  for (let i = 0; i < xp.length; i++) {
    if (!Number.isFinite(xp[i])) throw new ComputeError('NON_FINITE_INPUT', `features contain a non-finite value (sample ${perm[Math.floor(i / d)]}, feature ${i % d})`);
  }
  await yieldToEventLoop();

  // Per-fold Grams (float64) and feature sums.
  const foldStarts: number[] = [];
  let offset = 0;
  for (const s of valSets) {
    foldStarts.push(offset);
    offset += s.length;
  }
  const kVal: Float64Array[] = [];
  const sVal: Float64Array[] = [];
  const kTotal = new Float64Array(d * d);
  const sTotal = new Float64Array(d);
  for (let f = 0; f < nFolds; f++) {
    const rows = valSets[f].length;
    const block = xp64.subarray(foldStarts[f] * d, (foldStarts[f] + rows) * d);
    const k = (await gram(engine, { data: block, rows, cols: d })).data;
    kVal.push(k);
    const s = columnSums(block, rows, d);
    sVal.push(s);
    for (let i = 0; i < d * d; i++) kTotal[i] += k[i];
    for (let j = 0; j < d; j++) sTotal[j] += s[j];
  }

  lap('grams');
  const inputs: PlanInput[] = valSets.map((set, f) => ({
    d,
    na,
    alphas,
    kTotal,
    kVal: kVal[f],
    sTotal,
    sVal: sVal[f],
    nVal: set.length,
    nTrain: n - set.length,
    start: foldStarts[f],
    fitIntercept,
    rankTolerance,
    blockRows,
    blockedFrom: options.blockedDecompositionsFrom,
  }));
  const grams: FoldGrams[] = [];
  for (const input of inputs) {
    grams.push(foldGrams(input));
    await yieldToEventLoop();
  }
  kVal.length = 0;
  // Refit Gram on all samples, decomposed with the fold Grams.
  const kAll = Float64Array.from(kTotal);
  if (fitIntercept) subtractOuter(kAll, sTotal, sTotal, 1 / n, d);
  const blockedFrom = options.blockedDecompositionsFrom;
  const plans: FoldPlan[] = [];
  for (let f = 0; f < nFolds; f++) {
    const [eig] = await truncatedEigenMany(engine, [grams[f].kTrain], d, rankTolerance, blockedFrom);
    plans.push(await planFold(engine, inputs[f], grams[f], eig));
    await step(decompositionWork, `decomposed fold ${f + 1} of ${nFolds}`);
  }
  const [refit] = await truncatedEigenMany(engine, [kAll], d, rankTolerance, blockedFrom);
  await step(decompositionWork, 'decomposed the refit Gram matrix');
  const refitVt = toFloat32(refit.vt);
  const refitS2 = toFloat32(refit.values);
  const refitVtSTotalOverN = matVec(refit.vt, sTotal, refit.rank, d, 1 / n);
  lap('decompositions');

  const weights = new Float32Array(d * v);
  const intercept = new Float32Array(v);
  const bestAlphas = new Float64Array(v);
  const bestAlphaIndex = new Int32Array(v);
  const cvScores = new Float64Array(na * v);
  const bestCvScores = new Float64Array(v);

  for (let c0 = 0; c0 < v; c0 += voxelBatch) {
    const vb = Math.min(voxelBatch, v - c0);
    // Responses of this batch in fold order (row copies; the whole matrix when it is one batch in
    // natural order).
    let yb: Float32Array;
    if (vb === v && identityOrder) {
      yb = Y.data;
    } else {
      yb = new Float32Array(n * vb);
      for (let i = 0; i < n; i++) {
        const src = perm[i] * v + c0;
        yb.set(Y.data.subarray(src, src + vb), i * vb);
      }
    }
    lap('responses');
    // One engine call: centring (when fitting an intercept), Z_f = Xv_f^T Yv_f per fold, their sum
    // X^T Y, and per-fold sums and sums of squares of the (centred) responses.
    const crossFeeds: Record<string, { data: Float32Array; dims: number[] }> = {};
    plans.forEach((plan, f) => {
      crossFeeds[`X${f}`] = { data: xp.subarray(plan.start * d, (plan.start + plan.size) * d), dims: [plan.size, d] };
      crossFeeds[`Y${f}`] = { data: yb.subarray(plan.start * vb, (plan.start + plan.size) * vb), dims: [plan.size, vb] };
    });
    const crossOut = await engine.run(crossProductGraph(nFolds, n, fitIntercept), crossFeeds);
    const zFold = plans.map((_, f) => crossOut[`Z${f}`].data as Float32Array);
    const zTotal = crossOut.Ztot.data as Float32Array;
    const sy = plans.map((_, f) => Float64Array.from(crossOut[`sy${f}`].data as Float32Array));
    const syy = plans.map((_, f) => Float64Array.from(crossOut[`syy${f}`].data as Float32Array));
    const syTotal = new Float64Array(vb);
    for (const s of sy) for (let k = 0; k < vb; k++) syTotal[k] += s[k];
    const yOffset = fitIntercept ? Float64Array.from(crossOut.yOffset.data as Float32Array) : new Float64Array(vb);
    // Non-finite responses would poison every score of their voxel silently: refuse them (the
    // sums of squares, free here, are finite exactly when the voxel's responses are).
    for (const ss of syy) {
      const bad = ss.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new ComputeError('NON_FINITE_INPUT', `responses of voxel ${c0 + bad} contain a non-finite value (or overflow float32 squares)`);
    }

    lap('crossProducts');
    const scoreSum = new Float64Array(na * vb);
    const scoreSq = new Float64Array(na * vb);
    for (let f = 0; f < nFolds; f++) {
      const plan = plans[f];
      const nv = plan.size;
      const nt = plan.nTrain;
      const muY = new Float64Array(vb);
      if (fitIntercept) for (let j = 0; j < vb; j++) muY[j] = (syTotal[j] - sy[f][j]) / nt;
      const out = await runFoldGraph(engine, plan, zTotal, zFold[f], syTotal, sy[f], muY, fitIntercept, d, vb, na);
      accumulateFoldScores(out, sy[f], syy[f], muY, nv, na, vb, score, constantScore, scoreSum, scoreSq);
      lap('foldScores');
      await step(foldWork(vb), `scored fold ${f + 1} of ${nFolds} for voxels ${c0 + 1}-${c0 + vb} of ${v}`);
      mark = performance.now();
    }

    lap('foldScores');
    // Alpha per voxel, as himalaya's _select_best_alphas (local_alpha=True).
    const chosenAlpha = new Float32Array(vb);
    selectAlphas(scoreSum, scoreSq, nFolds, alphas, selection, c0, vb, v, { cvScores, bestAlphaIndex, bestAlphas, bestCvScores, chosenAlpha });

    lap('selection');
    // Refit with each voxel's alpha: W = V diag(1 / (s^2 + alpha_v)) V^T (X^T Y).
    const w = await runRefitGraph(engine, refitVt, refitS2, refitVtSTotalOverN, zTotal, syTotal, chosenAlpha, fitIntercept, refit.rank, d, vb);
    for (let k = 0; k < d; k++) weights.set(w.subarray(k * vb, (k + 1) * vb), k * v + c0);
    if (fitIntercept) interceptFromOffsets(yOffset, xOffset, w, d, vb, intercept, c0);
    lap('refit');
    await step(2 * d * d * vb, `refit voxels ${c0 + 1}-${c0 + vb} of ${v}`);
    await yieldToEventLoop();
    mark = performance.now();
  }

  return { weights, intercept, bestAlphas, bestAlphaIndex, cvScores, bestCvScores, nFeatures: d, nVoxels: v, voxelBatch, timings };
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
  out: { cross: Float32Array; quad: Float32Array; psum: Float32Array },
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
        const psum = out.psum[idx];
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

interface PlanInput {
  d: number;
  na: number;
  alphas: Float64Array;
  kTotal: Float64Array;
  kVal: Float64Array;
  sTotal: Float64Array;
  sVal: Float64Array;
  nVal: number;
  nTrain: number;
  start: number;
  fitIntercept: boolean;
  rankTolerance: number;
  blockRows: number;
  blockedFrom?: number;
}

interface FoldGrams {
  kTrain: Float64Array; // (d, d) training Gram, centred when fitting an intercept
  kVal: Float64Array; // (d, d) validation Gram, centred by the training mean
  sTrain: Float64Array; // (d,)
  sValCentred: Float64Array; // (d,)
}

function foldGrams(p: PlanInput): FoldGrams {
  const { d, nVal, nTrain } = p;
  const sTrain = new Float64Array(d);
  for (let j = 0; j < d; j++) sTrain[j] = p.sTotal[j] - p.sVal[j];
  const kTrain = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) kTrain[i] = p.kTotal[i] - p.kVal[i];
  // Validation Gram, centred by the training mean: Kv - mu sv^T - sv mu^T + nv mu mu^T.
  const kVal = Float64Array.from(p.kVal);
  const sValCentred = Float64Array.from(p.sVal);
  if (p.fitIntercept) {
    subtractOuter(kTrain, sTrain, sTrain, 1 / nTrain, d);
    const mu = Float64Array.from(sTrain, (s) => s / nTrain);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) kVal[i * d + j] += -mu[i] * p.sVal[j] - p.sVal[i] * mu[j] + nVal * mu[i] * mu[j];
    }
    for (let j = 0; j < d; j++) sValCentred[j] -= nVal * mu[j];
  }
  return { kTrain, kVal, sTrain, sValCentred };
}

async function planFold(engine: Engine, p: PlanInput, grams: FoldGrams, eig: TruncatedEigen): Promise<FoldPlan> {
  const { d, na, alphas, nVal, nTrain } = p;
  const { kVal, sTrain, sValCentred } = grams;

  const r = eig.rank;
  // G = V^T Kval V (r x r), factor G[piv][:, piv] = R^T R.
  const vt64 = { data: eig.vt, rows: r, cols: d };
  const kv = (await gemmMixed(engine, vt64, { data: kVal, rows: d, cols: d })).data; // (r, d)
  const g = (await gemmMixed(engine, { data: kv, rows: r, cols: d }, vt64, true)).data; // (r, r)
  const chol = await pivotedCholeskyBlocked(engine, g, r, { blockedFrom: p.blockedFrom });
  const piv = chol.piv;
  // Reorder components by the pivot so R is upper-trapezoidal in component order.
  const vt = new Float32Array(r * d);
  const vt64p = new Float64Array(r * d);
  const s2 = new Float64Array(r);
  for (let k = 0; k < r; k++) {
    const src = piv[k];
    vt64p.set(eig.vt.subarray(src * d, src * d + d), k * d);
    s2[k] = eig.values[src];
  }
  for (let i = 0; i < vt.length; i++) vt[i] = vt64p[i];
  const weightsByAlpha64 = new Float64Array(na * r);
  for (let a = 0; a < na; a++) for (let k = 0; k < r; k++) weightsByAlpha64[a * r + k] = 1 / (s2[k] + alphas[a]);
  const m = matVec(vt64p, sValCentred, r, d, 1);
  const weightsTimesM = new Float32Array(na * r);
  for (let i = 0; i < na * r; i++) weightsTimesM[i] = weightsByAlpha64[i] * m[i % r];
  const rBlocks = stackTriangularBlocks(chol.r, chol.rank, r, weightsByAlpha64, na, p.blockRows);
  return {
    start: p.start,
    size: nVal,
    nTrain,
    rank: r,
    vt,
    sTrain,
    sVal: p.sVal,
    vtSTrainOverN: matVec(vt64p, sTrain, r, d, 1 / nTrain),
    vtSVal: matVec(vt64p, p.sVal, r, d, 1),
    weightsByAlpha: toFloat32(weightsByAlpha64),
    weightsTimesM,
    rBlocks,
    graph: foldScoreGraph(na, r, rBlocks.map((b) => [b.rowStart, b.rows])),
  };
}

interface TruncatedEigen {
  values: Float64Array; // (r,) ascending
  vt: Float64Array; // (r, d) eigenvectors as rows
  rank: number;
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

/** Eigen-decompositions keeping components with eigenvalue > tol * max (and > 0). */
async function truncatedEigenMany(engine: Engine, grams: Float64Array[], d: number, tol: number, blockedFrom?: number): Promise<TruncatedEigen[]> {
  const results = await symmetricEigenMany(engine, grams, d, { minEigenvalueRelative: tol, minEigenvalue: 0, blockedFrom });
  return results.map(({ values, first, vectorsT }) => {
    const rank = d - first;
    if (rank === 0) throw new ComputeError('INVALID_ARGUMENT', 'features are all zero (Gram matrix has rank 0)');
    return { values: values.slice(first), vt: vectorsT, rank };
  });
}

/** A (m, k) @ B (k, n) or B^T, float64 through the engine. */
async function gemmMixed(engine: Engine, a: Matrix<Float64Array>, b: Matrix<Float64Array>, transB = false): Promise<Matrix<Float64Array>> {
  return gemm(engine, a, b, { transB });
}

/**
 * For row blocks (X_f, Y_f), f < nFolds: Z_f = X_f^T Y_f (d, v), Ztot = sum_f Z_f, and sy_f, syy_f
 * (v,), the column sums and sums of squares of Y_f. With `centre`, every Y_f is first centred by
 * the column means over all nSamples rows, returned as yOffset (1, v). Blocks are separate inputs
 * so the caller passes views of its arrays and nothing is copied.
 */
function crossProductGraph(nFolds: number, nSamples: number, centre: boolean): Graph {
  return cachedGraph(`ridge:cross_products:${nFolds}:${nSamples}:${centre}`, () => {
    const g = new GraphBuilder('ridge_cross_products');
    const xs = Array.from({ length: nFolds }, (_, f) => g.input(`X${f}`, 'float32', [`n${f}`, 'd']));
    let ys = Array.from({ length: nFolds }, (_, f) => g.input(`Y${f}`, 'float32', [`n${f}`, 'v']));
    if (centre) {
      const sums = ys.map((y) => g.node('ReduceSum', [y, g.ints([0])], { keepdims: 1 }));
      const total = sums.length === 1 ? sums[0] : g.node('Sum', sums);
      const mean = g.output(g.node('Div', [total, g.constant([nSamples], 'float32', [1])]), 'yOffset', 'float32', [1, 'v']);
      ys = ys.map((y) => g.node('Sub', [y, mean]));
    }
    const parts = ys.map((y, f) => {
      g.output(g.node('ReduceSum', [y, g.ints([0])], { keepdims: 0 }), `sy${f}`, 'float32', ['v']);
      g.output(g.node('ReduceSumSquare', [y], { axes: [0], keepdims: 0 }), `syy${f}`, 'float32', ['v']);
      return g.output(g.node('Gemm', [xs[f], y], { transA: 1 }), `Z${f}`, 'float32', ['d', 'v']);
    });
    g.output(parts.length === 1 ? g.node('Identity', parts) : g.node('Sum', parts), 'Ztot', 'float32', ['d', 'v']);
    return g.build();
  });
}

/**
 * Per-fold validation statistics for all alphas at once.
 * Inputs: Ztot, Zf (d, v); Vt (r, d); rank-1/2 centring corrections bA (r,1) bB (1,v), cA (r,2)
 * cB (2,v); Wt, Wm (n_alphas, r); R_i (n_alphas*rows_i, r-start_i) stacked R W_alpha blocks.
 * Outputs (n_alphas, v): cross = c^T W b, quad = ||R W b||^2, psum = m^T W b.
 */
function foldScoreGraph(na: number, r: number, blocks: [number, number][]): Graph {
  const key = `ridge:fold_scores:${na}:${r}:${blocks.map((b) => b.join('+')).join(',')}`;
  return cachedGraph(key, () => {
    const g = new GraphBuilder('ridge_fold_scores');
    const zTot = g.input('Ztot', 'float32', ['d', 'v']);
    const zF = g.input('Zf', 'float32', ['d', 'v']);
    const vt = g.input('Vt', 'float32', [r, 'd']);
    const bA = g.input('bA', 'float32', [r, 1]);
    const bB = g.input('bB', 'float32', [1, 'v']);
    const cA = g.input('cA', 'float32', [r, 2]);
    const cB = g.input('cB', 'float32', [2, 'v']);
    const wt = g.input('Wt', 'float32', [na, r]);
    const wm = g.input('Wm', 'float32', [na, r]);
    const b = g.node('Add', [g.node('MatMul', [vt, g.node('Sub', [zTot, zF])]), g.node('MatMul', [bA, bB])]);
    const c = g.node('Add', [g.node('MatMul', [vt, zF]), g.node('MatMul', [cA, cB])]);
    g.output(g.node('MatMul', [wt, g.node('Mul', [c, b])]), 'cross', 'float32', [na, 'v']);
    g.output(g.node('MatMul', [wm, b]), 'psum', 'float32', [na, 'v']);
    const parts: string[] = [];
    blocks.forEach(([start, rows], i) => {
      const rb = g.input(`R${i}`, 'float32', [na * rows, r - start]);
      const bSlice = start === 0 ? b : g.node('Slice', [b, g.ints([start]), g.ints([r]), g.ints([0])]);
      const prod = g.node('MatMul', [rb, bSlice]);
      const shaped = g.node('Reshape', [prod, g.ints([na, rows, -1])]);
      parts.push(g.node('ReduceSumSquare', [shaped], { axes: [1], keepdims: 0 }));
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
  d: number,
  vb: number,
  na: number,
): Promise<{ cross: Float32Array; quad: Float32Array; psum: Float32Array }> {
  const r = plan.rank;
  const bA = new Float32Array(r);
  const bB = new Float32Array(vb);
  const cA = new Float32Array(r * 2);
  const cB = new Float32Array(2 * vb);
  if (fitIntercept) {
    // Ztr' = Ztr - sTrain syTrain^T / nTrain, so V^T Ztr' = V^T Ztr - (V^T sTrain / nTrain) syTrain^T.
    // Zv'  = Zv - mu (syVal - nVal muY)^T - sVal muY^T with mu = sTrain / nTrain.
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
  }
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {
    Ztot: { data: zTotal, dims: [d, vb] },
    Zf: { data: zFold, dims: [d, vb] },
    Vt: { data: plan.vt, dims: [r, d] },
    bA: { data: bA, dims: [r, 1] },
    bB: { data: bB, dims: [1, vb] },
    cA: { data: cA, dims: [r, 2] },
    cB: { data: cB, dims: [2, vb] },
    Wt: { data: plan.weightsByAlpha, dims: [na, r] },
    Wm: { data: plan.weightsTimesM, dims: [na, r] },
  };
  plan.rBlocks.forEach((blk, i) => {
    feeds[`R${i}`] = { data: blk.data, dims: [na * blk.rows, r - blk.rowStart] };
  });
  const out = await engine.run(plan.graph, feeds);
  return { cross: out.cross.data as Float32Array, quad: out.quad.data as Float32Array, psum: out.psum.data as Float32Array };
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

function columnMeans(data: Float32Array, n: number, d: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[j] += data[i * d + j];
  for (let j = 0; j < d; j++) out[j] /= n;
}

function columnSums(data: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[j] += data[i * d + j];
  return out;
}

/** M -= scale * a b^T for a (d, d) matrix. */
function subtractOuter(m: Float64Array, a: Float64Array, b: Float64Array, scale: number, d: number): void {
  for (let i = 0; i < d; i++) {
    const ai = a[i] * scale;
    for (let j = 0; j < d; j++) m[i * d + j] -= ai * b[j];
  }
}

/** scale * (A @ x) for A (rows, cols). */
function matVec(a: Float64Array, x: Float64Array, rows: number, cols: number, scale: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += a[i * cols + j] * x[j];
    out[i] = s * scale;
  }
  return out;
}

function toFloat32(a: Float64Array): Float32Array {
  return Float32Array.from(a);
}
