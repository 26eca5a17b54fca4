// ENCODING_RIDGE: fit a voxelwise ridge encoder from a model's features to one subject's responses
// on the training stimuli (per-voxel alpha by K-fold CV, as himalaya's solve_ridge_cv_svd), score
// it on the held-out stimuli, and store per-voxel maps, weights and per-ROI scores.
import { z } from 'zod';
import { RunInputError, type JobResult, type ScoreRecord } from '../runs/types';
import { defineJob, type JobContext } from './define';
import { sharedEngine } from '../compute/engine-instance';
import { explainedVariance, nanMean, nanMedian, pearsonR, r2Score } from '../compute/metrics';
import { affine, matrix } from '../compute/onnx';
import { ridgeCv, type RidgeScore } from '../compute/ridge';
import { ceilingNormalize, roiBootstrap, type RoiSummary } from '../compute/stats';
import { loadSplit, loadVector, type Split } from './io/load-arrays';
import { saveArray } from './io/outputs';

/** The whole-brain scope beside the named ROIs. */
const ALL = 'all voxels';
/**
 * How validation folds are scored during CV. Each voxel's mean validation score at its chosen alpha
 * is kept (`cvScore` map, `cv.<score>.mean` per scope): a criterion computed on the training
 * stimuli only, which lets a layer sweep choose layers without looking at the test stimuli.
 */
/** The CV score layer sweeps compare layers by; their child fits select alphas by it too. */
export const CV_SCORE = 'r2';
export const CV_METRIC = `cv.${CV_SCORE}.mean`;

/** 10^-3 ... 10^5, one per decade (BraInCoRL's baseline range). */
export const DEFAULT_ALPHAS = Array.from({ length: 9 }, (_, i) => 10 ** (i - 3));
const MAX_ALPHAS = 100;
/** Largest voxel batch a run may ask for (memory is O(n_stimuli x voxelBatch) per fold). */
export const MAX_VOXEL_BATCH = 65536;
/** Validation scores a voxel's alpha may be chosen by; the first is himalaya RidgeCV's default. */
export const RIDGE_SELECTION_SCORES = ['l2_neg_loss', 'r2', 'correlation'] as const satisfies readonly RidgeScore[];
export type RidgeSelectionScore = (typeof RIDGE_SELECTION_SCORES)[number];
/** What a new submission selects by when it names no score (stored runs without one used r2). */
export const DEFAULT_SELECTION_SCORE: RidgeSelectionScore = 'l2_neg_loss';

const foldsMessage = (got: unknown) => `folds must be an integer from 2 to 50 (got ${got})`;
const bootstrapMessage = 'bootstrapSamples must be an integer from 0 to 100000';
const voxelBatchMessage = (got: unknown) => `voxelBatch must be an integer from 1 to ${MAX_VOXEL_BATCH} (got ${got})`;

/**
 * As recorded on the run. Fields added later are optional with the meaning runs recorded before
 * them had, so every stored run still parses to what it did: no selectionScore chose by r2, no
 * ceiling used ncsnr, no voxelBatch let the shapes choose.
 */
export const encodingRidgeParams = z.object({
  featureSetId: z.string(),
  responseSetId: z.string(),
  /** External ids of the held-out stimuli; the rest of the stimulus set trains. */
  testStimulusIds: z.array(z.string()),
  alphas: z
    .array(z.number().positive({ error: (iss) => `ridge penalties must be finite and > 0 (got ${iss.input})` }))
    .min(1, { error: `Give between 1 and ${MAX_ALPHAS} alphas` })
    .max(MAX_ALPHAS, { error: `Give between 1 and ${MAX_ALPHAS} alphas` })
    .default(DEFAULT_ALPHAS),
  folds: z
    .number()
    .int({ error: (iss) => foldsMessage(iss.input) })
    .min(2, { error: (iss) => foldsMessage(iss.input) })
    .max(50, { error: (iss) => foldsMessage(iss.input) })
    .default(5),
  selectionScore: z
    .enum(RIDGE_SELECTION_SCORES, { error: (iss) => `selectionScore must be one of ${RIDGE_SELECTION_SCORES.join(', ')} (got ${iss.input})` })
    .default('r2'),
  bootstrapSamples: z.number().int({ error: bootstrapMessage }).min(0, { error: bootstrapMessage }).max(100_000, { error: bootstrapMessage }).default(1000),
  seed: z.number().int().default(0),
  /** Percent of explainable variance from NSD's ncsnr (when absent) or split-half reliability. */
  ceiling: z.enum(['ncsnr', 'splitHalf']).optional(),
  voxelBatch: z
    .number()
    .int({ error: (iss) => voxelBatchMessage(iss.input) })
    .min(1, { error: (iss) => voxelBatchMessage(iss.input) })
    .max(MAX_VOXEL_BATCH, { error: (iss) => voxelBatchMessage(iss.input) })
    .optional(),
});
export type EncodingRidgeParams = z.output<typeof encodingRidgeParams>;

export const encodingRidge = defineJob({
  kind: 'ENCODING_RIDGE',
  params: encodingRidgeParams,
  handle: fitEncodingRidge,
});

async function fitEncodingRidge(ctx: JobContext<EncodingRidgeParams>): Promise<JobResult> {
  const p = ctx.params;
  const featureSet = await ctx.db.featureSet.findUnique({ where: { id: p.featureSetId }, include: { artifact: true, model: true } });
  const responseSet = await ctx.db.responseSet.findUnique({
    where: { id: p.responseSetId },
    include: { artifact: true, subject: { include: { rois: true } } },
  });
  if (!featureSet?.artifact || !responseSet?.artifact) throw new RunInputError('The feature set or response set no longer has its array');
  ctx.recordProvenance({
    inputs: { features: featureSet.artifact.sha256, responses: responseSet.artifact.sha256 },
    model: featureSet.model.name,
    subject: responseSet.subject.name,
  });

  const split = await resolveSplit(ctx, responseSet.stimulusSetId, p.testStimulusIds);
  const nRows = split.train.length + split.test.length;
  await ctx.progress(0.02, `loading features (${split.train.length} training, ${split.test.length} test stimuli)`);
  const X = await loadSplit(ctx, featureSet.artifact, null, split, nRows);
  await ctx.progress(0.08, 'loading responses');
  const Y = await loadSplit(ctx, responseSet.artifact, null, split, nRows);
  const nVoxels = Y.train.cols;

  const engine = await sharedEngine();
  ctx.recordProvenance({ engine: engine.provenance });
  await ctx.progress(0.15, `fitting ridge: ${p.folds} folds x ${p.alphas.length} alphas x ${nVoxels} voxels`);
  const selectionScore = p.selectionScore;
  const fit = await ridgeCv(engine, X.train, Y.train, {
    alphas: p.alphas,
    folds: p.folds,
    fitIntercept: true,
    score: selectionScore,
    voxelBatch: p.voxelBatch,
    signal: ctx.signal,
    // Each fold of each voxel batch: the fit is most of the run (0.15 to 0.70), and a cancel or a
    // lost run stops it at the next fold.
    onProgress: (fraction, message) => ctx.progress(0.15 + 0.55 * fraction, `fitting ridge: ${message}`),
  });
  ctx.recordProvenance({ ridgeSeconds: fit.timings, selectionScore, voxelBatch: fit.voxelBatch, decompositionsInWorker: fit.decompositionsInWorker });

  await ctx.progress(0.7, 'scoring held-out stimuli');
  const prediction = await affine(engine, X.test, matrix(fit.weights, fit.nFeatures, nVoxels), fit.intercept);
  const r = pearsonR(Y.test, prediction);
  const ev = explainedVariance(Y.test, prediction);
  const r2 = r2Score(Y.test, prediction);

  // The ceiling as percent of explainable variance: NSD's from ncsnr, or the Spearman-Brown
  // corrected split-half reliability (a reliability is that fraction) times 100.
  const ceilingKind = p.ceiling ?? 'ncsnr';
  const ceilingId = ceilingKind === 'splitHalf' ? responseSet.splitHalfArtifactId : responseSet.noiseCeilingArtifactId;
  if (ceilingKind === 'splitHalf' && !ceilingId) throw new RunInputError('The response set has no split-half reliability (it needs repeats)');
  const ceiling = ceilingId ? await ctx.db.artifact.findUnique({ where: { id: ceilingId } }) : null;
  const loaded = ceiling ? await loadVector(ctx, ceiling) : null;
  const ncPercent = loaded && ceilingKind === 'splitHalf' ? Float64Array.from(loaded, (x) => 100 * x) : loaded;
  if (ncPercent) ctx.recordProvenance({ ceiling: ceilingKind });
  const evNorm = ncPercent ? ceilingNormalize(ev, ncPercent) : null;
  const r2Norm = ncPercent ? ceilingNormalize(r, ncPercent, { squareCorrelation: true }) : null;

  const outputs: Record<string, string> = {
    pearsonR: await saveArray(ctx, r, [nVoxels], 'pearson-r.npy'),
    explainedVariance: await saveArray(ctx, ev, [nVoxels], 'explained-variance.npy'),
    r2: await saveArray(ctx, r2, [nVoxels], 'r2.npy'),
    alpha: await saveArray(ctx, fit.bestAlphas, [nVoxels], 'alpha.npy'),
    cvScore: await saveArray(ctx, fit.bestCvScores, [nVoxels], 'cv-score.npy'),
    // Weights with the intercept as the last row: prediction = [x, 1] @ weights.
    weights: await saveArray(ctx, withInterceptRow(fit.weights, fit.intercept, fit.nFeatures, nVoxels), [fit.nFeatures + 1, nVoxels], 'weights.npy'),
  };
  if (evNorm && r2Norm) {
    outputs.normalizedExplainedVariance = await saveArray(ctx, evNorm.normalized, [nVoxels], 'normalized-explained-variance.npy');
    outputs.normalizedR2 = await saveArray(ctx, r2Norm.normalized, [nVoxels], 'normalized-r2.npy');
  }

  await ctx.progress(0.8, `bootstrapping ROI confidence intervals (${p.bootstrapSamples} resamples)`);
  const rois: Record<string, ArrayLike<number>> = { [ALL]: Int32Array.from({ length: nVoxels }, (_, i) => i) };
  for (const roi of responseSet.subject.rois) rois[roi.name] = roi.voxelIndices;
  const roiIds = new Map(responseSet.subject.rois.map((roi) => [roi.name, roi.id]));
  const scores: ScoreRecord[] = [];
  const perVoxel = { pearson_r: { values: r, normalized: r2Norm?.normalized }, explained_variance: { values: ev, normalized: evNorm?.normalized } } as const;
  for (const [metric, voxelMetric] of [['pearson_r', 'pearson'], ['explained_variance', 'explainedVariance']] as const) {
    const summaries: RoiSummary[] =
      p.bootstrapSamples > 0
        ? await roiBootstrap(engine, Y.test, prediction, rois, { metric: voxelMetric, nBootstrap: p.bootstrapSamples, seed: p.seed })
        : Object.entries(rois).map(([roi, idx]) => pointSummary(roi, idx, perVoxel[metric].values));
    for (const s of summaries) {
      const idx = Array.from(rois[s.roi]);
      const normalized = perVoxel[metric].normalized;
      const normValues = normalized ? idx.map((j) => normalized[j]) : null;
      const common = { roiId: roiIds.get(s.roi) ?? null, benchmarkId: ctx.run.benchmarkId, n: s.nVoxels };
      const scope = s.roi === ALL ? 'all' : `roi:${s.roi}`;
      scores.push(
        {
          ...common,
          metric: `${metric}.mean`,
          scope,
          value: s.mean,
          ciLow: finiteOrNull(s.meanCi[0]),
          ciHigh: finiteOrNull(s.meanCi[1]),
          normalized: normValues ? finiteOrNull(nanMean(normValues)) : null,
          extra: { aboveCeiling: normValues ? normValues.filter((x) => x > 1).length : null, nBootstrap: s.nBootstrap, ...(normValues ? { ceiling: ceilingKind } : {}) },
        },
        {
          ...common,
          metric: `${metric}.median`,
          scope,
          value: s.median,
          ciLow: finiteOrNull(s.medianCi[0]),
          ciHigh: finiteOrNull(s.medianCi[1]),
          normalized: normValues ? finiteOrNull(nanMedian(normValues)) : null,
          extra: { nBootstrap: s.nBootstrap, ...(normValues ? { ceiling: ceilingKind } : {}) },
        },
      );
    }
  }
  for (const [roi, idx] of Object.entries(rois)) {
    const cv = Array.from(idx, (j) => fit.bestCvScores[j]).filter(Number.isFinite);
    scores.push({
      metric: `cv.${selectionScore}.mean`,
      scope: roi === ALL ? 'all' : `roi:${roi}`,
      roiId: roiIds.get(roi) ?? null,
      benchmarkId: ctx.run.benchmarkId,
      value: nanMean(cv),
      n: cv.length,
      extra: { folds: p.folds, stimuli: 'training' },
    });
  }
  await ctx.progress(0.98, 'storing results');
  // Voxels constant over the test stimuli have no defined r or EV: NaN in the maps, left out of
  // ROI aggregates, counted here so nobody mistakes a smaller n for missing data.
  const undefinedVoxels = Array.from(r).filter((x) => Number.isNaN(x)).length;
  ctx.recordProvenance({ nTrain: split.train.length, nTest: split.test.length, nVoxels, nFeatures: fit.nFeatures, undefinedVoxels });
  return { outputs, scores: scores.filter((s) => Number.isFinite(s.value)) };
}

async function resolveSplit(ctx: Pick<JobContext<unknown>, 'db'>, stimulusSetId: string, testIds: string[]): Promise<Split> {
  const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId }, select: { externalId: true, position: true }, orderBy: { position: 'asc' } });
  const test = new Set(testIds);
  const found = stimuli.filter((s) => test.has(s.externalId));
  if (found.length !== test.size) throw new RunInputError(`${test.size - found.length} test stimuli are no longer in the stimulus set`);
  return {
    train: Int32Array.from(stimuli.filter((s) => !test.has(s.externalId)).map((s) => s.position)),
    test: Int32Array.from(found.map((s) => s.position)),
  };
}

function withInterceptRow(weights: Float32Array, intercept: Float32Array, d: number, v: number): Float32Array {
  const out = new Float32Array((d + 1) * v);
  out.set(weights.subarray(0, d * v));
  out.set(intercept, d * v);
  return out;
}

function pointSummary(roi: string, idx: ArrayLike<number>, values: Float64Array): RoiSummary {
  const picked = Array.from(idx, (j) => values[j]);
  const mean = nanMean(picked);
  const median = nanMedian(picked);
  const nDefined = picked.filter((x) => !Number.isNaN(x)).length;
  return { roi, nVoxels: nDefined, nUndefined: picked.length - nDefined, mean, median, meanCi: [NaN, NaN], medianCi: [NaN, NaN], nBootstrap: 0 };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
