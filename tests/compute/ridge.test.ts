import { affine, matrix } from '../../src/compute/onnx';
import { autoDecompositionsInWorker, autoVoxelBatch, kFoldValidationSets, ridgeCv, ridgeWorkPerCall, type RidgeScore } from '../../src/compute/ridge';
import { cpuEngine, fixture, maxRelativeError } from './helpers';

interface RidgeFixture {
  name: string;
  n: number;
  nTest: number;
  d: number;
  v: number;
  fitIntercept: boolean;
  score: RidgeScore;
  alphaSelection: 'best' | 'withinOneSd';
  alphas: number[];
  folds: number[][];
  X: number[];
  Y: number[];
  Xtest: number[];
  Ytest: number[];
  bestAlphas: number[];
  cvScores: number[];
  weights: number[];
  intercept: number[];
  predictions: number[];
  sklearnWeights: number[];
  sklearnIntercept: number[];
  otherScore?: RidgeScore;
  otherBestAlphas?: number[];
  nCriteriaDisagree?: number;
}

const cases = ['kfold_r2', 'kfold_r2_intercept', 'groups_corr_intercept', 'kfold_conservative', 'wide_l2', 'kfold_blocked'];

describe('ridgeCv against a numpy port of himalaya solve_ridge_cv_svd', () => {
  // Every case three times: with each decomposition's default route (plain JavaScript below its
  // crossover size), with the blocked engine routes forced, and with those on the worker thread.
  test.each(cases.flatMap((c) => [[c, 'default'] as const, [c, 'blocked'] as const, [c, 'worker'] as const]))('%s (%s decompositions)', async (name, route) => {
    const fx = fixture<RidgeFixture>(`ridge_cv_${name}.json`);
    const engine = await cpuEngine();
    const kfold = name !== 'groups_corr_intercept';
    const result = await ridgeCv(engine, matrix(Float32Array.from(fx.X), fx.n, fx.d), matrix(Float32Array.from(fx.Y), fx.n, fx.v), {
      alphas: fx.alphas,
      folds: kfold ? 5 : fx.folds,
      score: fx.score,
      alphaSelection: fx.alphaSelection,
      fitIntercept: fx.fitIntercept,
      voxelBatch: 4, // several batches, last one partial
      quadraticBlockRows: 8, // several triangular blocks
      blockedDecompositionsFrom: route === 'default' ? undefined : 0,
      decompositionsInWorker: route === 'worker',
    });
    expect(result.decompositionsInWorker).toBe(route === 'worker');
    expect(Array.from(result.bestAlphas)).toEqual(fx.bestAlphas);
    expect(maxRelativeError(result.cvScores, fx.cvScores)).toBeLessThan(1e-4);
    expect(maxRelativeError(result.weights, fx.weights)).toBeLessThan(1e-4);
    expect(maxRelativeError(result.weights, fx.sklearnWeights)).toBeLessThan(1e-4);
    expect(maxRelativeError(result.intercept, fx.intercept)).toBeLessThan(1e-4);
    const pred = await affine(engine, matrix(Float32Array.from(fx.Xtest), fx.nTest, fx.d), matrix(result.weights, fx.d, fx.v), result.intercept);
    expect(maxRelativeError(pred.data, fx.predictions)).toBeLessThan(1e-4);
  });

  test('an error of a decomposition on the worker thread keeps its code', async () => {
    const engine = await cpuEngine();
    const X = new Float32Array(40 * 3);
    const Y = new Float32Array(40 * 2).map((_, i) => Math.cos(i));
    await expect(ridgeCv(engine, matrix(X, 40, 3), matrix(Y, 40, 2), { alphas: [1], decompositionsInWorker: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('non-finite inputs and bad folds are refused with codes', async () => {
    const engine = await cpuEngine();
    const X = new Float32Array(40 * 3).map((_, i) => Math.sin(i));
    const Y = new Float32Array(40 * 2).map((_, i) => Math.cos(i));
    Y[17] = Number.NaN;
    await expect(ridgeCv(engine, matrix(X, 40, 3), matrix(Y, 40, 2), { alphas: [1] })).rejects.toMatchObject({ code: 'NON_FINITE_INPUT' });
    const Y2 = Float32Array.from(Y, (y) => (Number.isNaN(y) ? 0 : y));
    await expect(ridgeCv(engine, matrix(X, 40, 3), matrix(Y2, 40, 2), { alphas: [1], folds: [[0, 1], [1, 2]] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ridgeCv(engine, matrix(X, 40, 3), matrix(Y2, 40, 2), { alphas: [-1] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    X[5] = Number.POSITIVE_INFINITY;
    await expect(ridgeCv(engine, matrix(X, 40, 3), matrix(Y2, 40, 2), { alphas: [1] })).rejects.toMatchObject({ code: 'NON_FINITE_INPUT' });
  });

  test.each([false, true])('reports progress after every decomposition and fold, and stops when its callback or signal says so (decompositions in worker: %s)', async (inWorker) => {
    const fx = fixture<RidgeFixture>('ridge_cv_kfold_r2_intercept.json');
    const engine = await cpuEngine();
    const X = matrix(Float32Array.from(fx.X), fx.n, fx.d);
    const Y = matrix(Float32Array.from(fx.Y), fx.n, fx.v);
    const seen: [number, string][] = [];
    const base = { alphas: fx.alphas, folds: 5, score: fx.score, fitIntercept: true, voxelBatch: Math.ceil(fx.v / 2), decompositionsInWorker: inWorker };
    const fit = await ridgeCv(engine, X, Y, { ...base, onProgress: (f, m) => void seen.push([f, m]) });
    // 5 fold decompositions + the refit, then per batch (2 of them) 5 folds and a refit.
    expect(seen).toHaveLength(6 + 2 * 6);
    expect(seen.filter(([, m]) => m.startsWith('scored fold'))).toHaveLength(10);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThan(seen[i - 1][0]);
    expect(seen[seen.length - 1][0]).toBeCloseTo(1, 12);
    expect(Array.from(fit.bestAlphas)).toEqual(fx.bestAlphas); // the callback changes nothing computed

    // A throwing callback (a cancelled run) ends the fit at that fold.
    let calls = 0;
    const stop = new Error('cancelled');
    await expect(ridgeCv(engine, X, Y, { ...base, onProgress: () => { if (++calls === 8) throw stop; } })).rejects.toBe(stop);
    expect(calls).toBe(8);
    const controller = new AbortController();
    controller.abort(new Error('signal'));
    await expect(ridgeCv(engine, X, Y, { ...base, signal: controller.signal })).rejects.toThrow('signal');
  });

  test('the default voxel batch bounds the work of one engine call and depends on the shapes and cores only', () => {
    expect(autoVoxelBatch(100, 16, 9, 2)).toBe(4096);
    const big = autoVoxelBatch(2500, 1024, 9, 2);
    expect(big).toBeLessThan(4096);
    expect(2 * (2 + 9) * 1024 * 1024 * big).toBeLessThanOrEqual(ridgeWorkPerCall(2));
    expect(2 * 2500 * 1024 * big).toBeLessThanOrEqual(ridgeWorkPerCall(2));
    expect(autoVoxelBatch(2500, 1024, 9, 1)).toBeLessThan(big);
    expect(autoVoxelBatch(2500, 1024, 9, 2)).toBe(big);
    expect(autoVoxelBatch(10 ** 6, 10 ** 4, 100, 2)).toBe(32);
    expect(autoDecompositionsInWorker(768, 2)).toBe(true);
    expect(autoDecompositionsInWorker(768, 1)).toBe(false);
    expect(autoDecompositionsInWorker(64, 2)).toBe(false);
  });

  test('KFold sets match scikit-learn (first n % k folds one larger)', () => {
    expect(kFoldValidationSets(12, 5).map((s) => s.length)).toEqual([3, 3, 2, 2, 2]);
    const fx = fixture<RidgeFixture>('ridge_cv_kfold_r2.json');
    expect(kFoldValidationSets(fx.n, 5).map((s) => Array.from(s))).toEqual(fx.folds);
  });

  // himalaya RidgeCV(alphas, fit_intercept=True, cv=5) with default solver parameters, on data
  // where mean validation MSE and mean validation R^2 disagree on many voxels.
  test('the default criterion is himalaya RidgeCV\'s (mean validation MSE), and r2 is another choice', async () => {
    const fx = fixture<RidgeFixture>('ridge_cv_himalaya_default_drift.json');
    expect(fx.score).toBe('l2_neg_loss');
    expect(fx.nCriteriaDisagree).toBeGreaterThanOrEqual(10);
    const engine = await cpuEngine();
    const X = matrix(Float32Array.from(fx.X), fx.n, fx.d);
    const Y = matrix(Float32Array.from(fx.Y), fx.n, fx.v);
    const byDefault = await ridgeCv(engine, X, Y, { alphas: fx.alphas, fitIntercept: true });
    expect(Array.from(byDefault.bestAlphas)).toEqual(fx.bestAlphas);
    expect(maxRelativeError(byDefault.cvScores, fx.cvScores)).toBeLessThan(1e-4);
    expect(maxRelativeError(byDefault.weights, fx.weights)).toBeLessThan(1e-4);
    const byR2 = await ridgeCv(engine, X, Y, { alphas: fx.alphas, fitIntercept: true, score: fx.otherScore });
    expect(Array.from(byR2.bestAlphas)).toEqual(fx.otherBestAlphas);
  });
});
