// ENCODING_ICL: an in-context encoder (BraInCoRL-style) predicts every voxel's readout from k
// context images of one subject; scored on the held-out stimuli exactly as ENCODING_RIDGE scores
// (same split, same repeat averaging, same metric functions), swept over k with repeats and
// compared with ridge fit on the same k images. Stores the curves (scores and a JSON artifact),
// per-voxel explained variance at each k, and the predicted per-voxel weights.
import { z } from 'zod';
import { RunInputError, type JobResult, type ScoreRecord } from '../runs/types';
import { defineJob, type JobContext } from './define';
import { DEFAULT_ALPHAS } from './encoding-ridge';
import { sharedEngine } from '../compute/engine-instance';
import { ContractError } from '../compute/icl/contract';
import { loadEncoder } from '../compute/icl/encoder';
import { unitNormRows } from '../compute/icl/predict';
import { readEncoderBytes } from './io/encoder-bytes';
import { testTimeScaling, type CurvePoint, type SweepMethod, type SweepMetric } from '../compute/icl/sweep';
import { nanMean } from '../compute/metrics';
import { ceilingNormalize } from '../compute/stats';
import { loadSplit, loadVector, type Split } from './io/load-arrays';
import { saveArray, storeOutput } from './io/outputs';

export const MAX_REPEATS = 100;
export const MAX_BATCH_VOXELS = 65_536;
const repeatsMessage = (got: unknown) => `repeats must be an integer from 1 to ${MAX_REPEATS} (got ${got})`;
const batchMessage = (got: unknown) => `batchVoxels must be an integer from 1 to ${MAX_BATCH_VOXELS} (got ${got})`;

/**
 * As recorded on the run (every field has been recorded since the kind exists; the defaults are
 * the submission's). The context sizes are checked against the data and the model by the domain.
 */
export const encodingIclParams = z.object({
  featureSetId: z.string(),
  responseSetId: z.string(),
  /** The IN_CONTEXT_ENCODER model. */
  modelId: z.string(),
  testStimulusIds: z.array(z.string()),
  ks: z.array(z.number().int().positive()).min(1),
  repeats: z
    .number()
    .int({ error: (iss) => repeatsMessage(iss.input) })
    .min(1, { error: (iss) => repeatsMessage(iss.input) })
    .max(MAX_REPEATS, { error: (iss) => repeatsMessage(iss.input) })
    .default(5),
  seed: z.number().int({ error: (iss) => `seed must be an integer (got ${iss.input})` }).default(0),
  batchVoxels: z
    .number()
    .int({ error: (iss) => batchMessage(iss.input) })
    .min(1, { error: (iss) => batchMessage(iss.input) })
    .max(MAX_BATCH_VOXELS, { error: (iss) => batchMessage(iss.input) })
    .default(1024),
  /** Ridge fit on the same k context images, for the comparison curve. */
  compareRidge: z.boolean().default(true),
  alphas: z.array(z.number().positive()).min(1).default(DEFAULT_ALPHAS),
  /** Consumers of the stored weights must L2-normalise feature rows first. */
  featureNormalization: z.literal('unit-norm').default('unit-norm'),
});
export type EncodingIclParams = z.output<typeof encodingIclParams>;

/** Metric name a curve point is stored under, e.g. in_context.explained_variance.mean@k100. */
export const sweepMetricName = (method: SweepMethod, metric: SweepMetric, k: number) => `${method}.${metric}.mean@k${k}`;

export const encodingIcl = defineJob({
  kind: 'ENCODING_ICL',
  params: encodingIclParams,
  handle: inContextEncoding,
});

async function inContextEncoding(ctx: JobContext<EncodingIclParams>): Promise<JobResult> {
  const p = ctx.params;
  const featureSet = await ctx.db.featureSet.findUnique({ where: { id: p.featureSetId }, include: { artifact: true, model: true } });
  const responseSet = await ctx.db.responseSet.findUnique({
    where: { id: p.responseSetId },
    include: { artifact: true, subject: { include: { rois: true } } },
  });
  const model = await ctx.db.model.findUnique({ where: { id: p.modelId }, include: { artifact: true } });
  if (!featureSet?.artifact || !responseSet?.artifact) throw new RunInputError('The feature set or response set no longer has its array');
  if (!model?.artifact) throw new RunInputError('The in-context encoder no longer has its ONNX file');
  ctx.recordProvenance({
    inputs: { features: featureSet.artifact.sha256, responses: responseSet.artifact.sha256, encoder: model.artifact.sha256 },
    model: model.name,
    backbone: featureSet.model.name,
    subject: responseSet.subject.name,
    // Consumers of the stored weights must L2-normalise feature rows first.
    featureNormalization: p.featureNormalization,
  });

  await ctx.progress(0.01, 'loading the in-context encoder');
  let encoder;
  try {
    encoder = loadEncoder(await readEncoderBytes(ctx.store, model.artifact.sha256), model.artifact.sha256);
  } catch (err) {
    if (err instanceof ContractError) throw new RunInputError(err.message);
    throw err;
  }
  ctx.recordProvenance({ encoder: { variant: encoder.variant, featureWidth: encoder.featureWidth, maxContext: encoder.maxContext, architecture: encoder.architecture } });

  const split = await resolveSplit(ctx, responseSet.stimulusSetId, p.testStimulusIds);
  const nRows = split.train.length + split.test.length;
  await ctx.progress(0.03, `loading features (${split.train.length} training, ${split.test.length} test stimuli)`);
  const X = await loadSplit(ctx, featureSet.artifact, null, split, nRows);
  if (X.train.cols !== encoder.featureWidth)
    throw new RunInputError(`The features are ${X.train.cols} wide but the encoder reads E = ${encoder.featureWidth}`);
  await ctx.progress(0.06, 'loading responses');
  const Y = await loadSplit(ctx, responseSet.artifact, null, split, nRows);
  const nVoxels = Y.train.cols;

  const scopes: Record<string, ArrayLike<number>> = { all: Int32Array.from({ length: nVoxels }, (_, i) => i) };
  for (const roi of responseSet.subject.rois) scopes[`roi:${roi.name}`] = roi.voxelIndices;
  const roiIds = new Map(responseSet.subject.rois.map((roi) => [`roi:${roi.name}`, roi.id]));

  const engine = await sharedEngine();
  ctx.recordProvenance({ engine: engine.provenance });
  const started = performance.now();
  const sweep = await testTimeScaling(
    engine,
    encoder,
    { Xtrain: unitNormRows(X.train), Ytrain: Y.train, Xtest: unitNormRows(X.test), Ytest: Y.test },
    {
      ks: p.ks,
      repeats: p.repeats,
      seed: p.seed,
      batchVoxels: p.batchVoxels,
      compareRidge: p.compareRidge,
      alphas: p.alphas,
      scopes,
      onStep: (done, total, message) => ctx.progress(0.08 + (0.85 * done) / total, message),
    },
  );
  const kMax = Math.max(...p.ks);
  ctx.recordProvenance({
    sweepSeconds: (performance.now() - started) / 1000,
    nTrain: split.train.length,
    nTest: split.test.length,
    nVoxels,
    encoderBatchVoxels: sweep.encoderBatch,
    constantContextVoxels: sweep.constantContextVoxels,
    weightsFrom: { k: kMax, repeat: 0 },
  });

  await ctx.progress(0.95, 'storing curves and weights');
  const ks = [...p.ks].sort((a, b) => a - b);
  const E = encoder.featureWidth;
  const weights = new Float32Array((E + 1) * nVoxels);
  weights.set(sweep.weights.weights);
  weights.set(sweep.weights.intercept, E * nVoxels);
  const outputs: Record<string, string> = {
    // [E + 1, n_voxels], intercept last, as ENCODING_RIDGE; for unit-norm feature rows.
    weights: await saveArray(ctx, weights, [E + 1, nVoxels], 'in-context-weights.npy'),
    inContextExplainedVariance: await saveArray(ctx, sweep.voxelExplainedVariance.in_context!, [ks.length, nVoxels], 'in-context-explained-variance.npy'),
  };
  if (sweep.voxelExplainedVariance.ridge)
    outputs.ridgeExplainedVariance = await saveArray(ctx, sweep.voxelExplainedVariance.ridge, [ks.length, nVoxels], 'ridge-explained-variance.npy');
  const curvesDoc = {
    ks,
    repeats: p.repeats,
    seed: p.seed,
    interval: 'Student-t 95% interval over repeats of the voxel-mean score',
    featureNormalization: p.featureNormalization,
    weightsFrom: { k: kMax, repeat: 0 },
    // Nested contexts: repeat r uses the first k of contextStimuli[r] for every k.
    contextStimuli: sweep.contexts.map((rows) => rows.map((i) => split.trainIds[i])),
    curves: sweep.curves,
  };
  const curvesArtifact = await storeOutput(ctx, Buffer.from(JSON.stringify(curvesDoc)), { filename: 'test-time-scaling.json', mediaType: 'application/json' });
  outputs.curves = curvesArtifact.id;

  // Explained variance as a fraction of the noise ceiling (NSD's NC), where the responses have one:
  // the scope's mean over voxels of the repeat-mean EV / (NC / 100), as ENCODING_RIDGE reports it.
  const ceiling = responseSet.noiseCeilingArtifactId ? await ctx.db.artifact.findUnique({ where: { id: responseSet.noiseCeilingArtifactId } }) : null;
  const ncPercent = ceiling ? await loadVector(ctx, ceiling) : null;
  const normalizedEv = (method: SweepMethod, k: number, scope: string): number | null => {
    const ev = sweep.voxelExplainedVariance[method];
    if (!ncPercent || !ev) return null;
    const row = ks.indexOf(k);
    const normalized = ceilingNormalize(ev.subarray(row * nVoxels, (row + 1) * nVoxels), ncPercent).normalized;
    const value = nanMean(Array.from(scopes[scope], (v) => normalized[v]));
    return Number.isFinite(value) ? value : null;
  };

  const scores: ScoreRecord[] = [];
  for (const [method, byMetric] of Object.entries(sweep.curves) as [SweepMethod, Record<SweepMetric, Record<string, CurvePoint[]>>][]) {
    for (const [metric, byScope] of Object.entries(byMetric) as [SweepMetric, Record<string, CurvePoint[]>][]) {
      for (const [scope, points] of Object.entries(byScope)) {
        for (const pt of points) {
          if (!Number.isFinite(pt.mean)) continue;
          scores.push({
            metric: sweepMetricName(method, metric, pt.k),
            scope,
            roiId: roiIds.get(scope) ?? null,
            benchmarkId: ctx.run.benchmarkId,
            value: pt.mean,
            ciLow: pt.ciLow,
            ciHigh: pt.ciHigh,
            normalized: metric === 'explained_variance' ? normalizedEv(method, pt.k, scope) : null,
            n: pt.values.length,
            extra: { k: pt.k, repeats: p.repeats, nVoxels: scopes[scope].length, values: pt.values },
          });
        }
      }
    }
  }
  return { outputs, scores };
}

async function resolveSplit(ctx: Pick<JobContext<unknown>, 'db'>, stimulusSetId: string, testIds: string[]): Promise<Split & { trainIds: string[] }> {
  const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId }, select: { externalId: true, position: true }, orderBy: { position: 'asc' } });
  const test = new Set(testIds);
  const found = stimuli.filter((s) => test.has(s.externalId));
  if (found.length !== test.size) throw new RunInputError(`${test.size - found.length} test stimuli are no longer in the stimulus set`);
  const train = stimuli.filter((s) => !test.has(s.externalId));
  return {
    train: Int32Array.from(train.map((s) => s.position)),
    test: Int32Array.from(found.map((s) => s.position)),
    trainIds: train.map((s) => s.externalId),
  };
}
