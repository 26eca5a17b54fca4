// LAYER_SWEEP: ridge encoding of every layer of a model on one subject's responses, aggregated into
// a layer x ROI profile. The sweep's work is done by child ENCODING_RIDGE runs (one per layer,
// ordinary runs on their own queue, so several workers share it); this run only aggregates.
//
// The run table is the ledger: each delivery of this run re-reads its children. While any is open
// it goes back to the queue (RunWaitingError) and is delivered again a little later; a restart,
// a lost job (the reconciler re-enqueues open runs) or a duplicate delivery only repeats that
// check. A child that failed or was cancelled fails the sweep, naming the layer and its error,
// and the children still open are cancelled (through the ledger: they stop at their next
// checkpoint, or at start).
//
// The best layer per ROI is the one with the best cross-validated score on the training stimuli
// (`cv.r2.mean` of the child runs); the score reported for the ROI is that layer's test score,
// with its bootstrap CI. Choosing on the test scores would inflate them.
import { z } from 'zod';
import { CV_METRIC, CV_SCORE, DEFAULT_ALPHAS, encodingRidge } from './encoding-ridge';
import { loadVector } from './io/load-arrays';
import { saveArray } from './io/outputs';
import { bestLayerPerScope, bestLayerPerVoxel, valuesAtChosenLayer } from '../compute/sweep/best-layer';
import type { Run, Score } from '../generated/prisma/client';
import { OPEN_STATUSES } from '../runs/transitions';
import { RunInputError, RunWaitingError, type JobContext as RunJobContext, type ScoreRecord } from '../runs/types';
import { defineJob, type JobContext } from './define';

export const MAX_SWEEP_LAYERS = 200;
/** How often a waiting sweep looks at its children again (a few cheap queries). */
const RECHECK_MS = 2000;

/** The test metrics of ENCODING_RIDGE a sweep reports at each scope's chosen layer. */
export const SWEEP_TEST_METRICS = ['pearson_r.mean', 'pearson_r.median', 'explained_variance.mean', 'explained_variance.median'] as const;
/** The sweep's own score metric for a test metric: `layer_sweep.pearson_r.mean`, ... */
export const sweepMetric = (metric: string) => `layer_sweep.${metric}`;
export { CV_METRIC as SWEEP_SELECTION_METRIC };

export const layerSweepParams = z.object({
  modelId: z.uuid(),
  responseSetId: z.uuid(),
  /** In sweep (depth) order; one child ENCODING_RIDGE run per entry. */
  layers: z
    .array(z.object({ layer: z.string(), featureSetId: z.uuid() }))
    .min(1, { message: 'a sweep needs at least one layer' })
    .max(MAX_SWEEP_LAYERS, { message: `a sweep takes at most ${MAX_SWEEP_LAYERS} layers` }),
  testStimulusIds: z.array(z.string()).min(3, { message: 'at least 3 test stimuli are needed to score' }),
  alphas: z
    .array(z.number().positive({ message: 'ridge penalties must be finite and > 0' }))
    .min(1, { message: 'give between 1 and 100 alphas' })
    .max(100, { message: 'give between 1 and 100 alphas' })
    .default(DEFAULT_ALPHAS),
  folds: z.number().int({ message: 'folds must be an integer from 2 to 50' }).min(2, { message: 'folds must be an integer from 2 to 50' }).max(50, { message: 'folds must be an integer from 2 to 50' }).default(5),
  bootstrapSamples: z
    .number()
    .int({ message: 'bootstrapSamples must be an integer from 0 to 100000' })
    .min(0, { message: 'bootstrapSamples must be an integer from 0 to 100000' })
    .max(100_000, { message: 'bootstrapSamples must be an integer from 0 to 100000' })
    .default(1000),
  seed: z.number().int().default(0),
});
export type LayerSweepParams = z.output<typeof layerSweepParams>;

/** The parameters of the child ENCODING_RIDGE run of one layer (as submitEncodingRidge writes them). */
export function childParams(p: LayerSweepParams, featureSetId: string): Record<string, unknown> {
  return {
    featureSetId,
    responseSetId: p.responseSetId,
    testStimulusIds: p.testStimulusIds,
    alphas: p.alphas,
    folds: p.folds,
    bootstrapSamples: p.bootstrapSamples,
    seed: p.seed,
    // Layers are compared by CV R^2 (comparable across voxels and ROIs), so each fit selects by it.
    selectionScore: CV_SCORE,
  };
}

interface LayerRun {
  layer: string;
  featureSetId: string;
  run: Run;
}

export const layerSweep = defineJob({
  kind: 'LAYER_SWEEP',
  params: layerSweepParams,
  async handle(ctx) {
    const layerRuns = await childRuns(ctx);
    const ended = layerRuns.filter((l) => !OPEN_STATUSES.includes(l.run.status));
    const broken = ended.find((l) => l.run.status !== 'SUCCEEDED');
    if (broken) {
      // A cancel of this sweep cancels its children first: honour it rather than report a failure.
      await ctx.progress(ended.length / layerRuns.length, 'a layer fit ended without results');
      await cancelOpenChildren(ctx);
      const error = broken.run.error as { code?: string; message?: string } | null;
      const why = broken.run.status === 'CANCELLED' ? 'was cancelled' : `failed: ${error?.message ?? 'no error recorded'}${error?.code ? ` [${error.code}]` : ''}`;
      throw new RunInputError(`The fit of layer ${JSON.stringify(broken.layer)} (ENCODING_RIDGE run ${broken.run.id}) ${why}`, {
        layer: broken.layer,
        runId: broken.run.id,
        status: broken.run.status,
        error,
      });
    }
    if (ended.length < layerRuns.length) {
      const open = layerRuns.length - ended.length;
      throw new RunWaitingError(`${open} of ${layerRuns.length} layer fits (child ENCODING_RIDGE runs)`, (0.9 * ended.length) / layerRuns.length, RECHECK_MS);
    }
    await ctx.progress(0.9, `aggregating ${layerRuns.length} layers`);
    return aggregate(ctx, layerRuns);
  },
});

async function childRuns(ctx: JobContext<LayerSweepParams>): Promise<LayerRun[]> {
  const children = await ctx.db.run.findMany({ where: { parentRunId: ctx.run.id } });
  const byFeatureSet = new Map(children.map((c) => [encodingRidge.params.safeParse(c.params).data?.featureSetId, c]));
  return ctx.params.layers.map((l) => {
    const run = byFeatureSet.get(l.featureSetId);
    if (!run) throw new RunInputError(`The child run of layer ${JSON.stringify(l.layer)} is missing; submit the sweep again`, { layer: l.layer });
    return { ...l, run };
  });
}

/** QUEUED children end now; RUNNING ones stop at their next progress write (they check the flag). */
async function cancelOpenChildren(ctx: JobContext<LayerSweepParams>): Promise<void> {
  await ctx.db.run.updateMany({ where: { parentRunId: ctx.run.id, status: { in: OPEN_STATUSES } }, data: { cancelRequested: true } });
  await ctx.db.run.updateMany({
    where: { parentRunId: ctx.run.id, status: 'QUEUED' },
    data: { status: 'CANCELLED', finishedAt: new Date(), progressMessage: 'Cancelled: another layer of its sweep failed' },
  });
}

async function aggregate(ctx: JobContext<LayerSweepParams>, layerRuns: LayerRun[]) {
  const runCtx = { ...ctx, params: {} } as RunJobContext;
  const scores = await ctx.db.score.findMany({
    where: { runId: { in: layerRuns.map((l) => l.run.id) }, metric: { in: [CV_METRIC, ...SWEEP_TEST_METRICS] } },
  });
  const byRun = new Map<string, Map<string, Score>>();
  for (const s of scores) {
    const m = byRun.get(s.runId) ?? new Map<string, Score>();
    m.set(`${s.metric}\u0000${s.scope}`, s);
    byRun.set(s.runId, m);
  }
  const score = (l: LayerRun, metric: string, scope: string) => byRun.get(l.run.id)?.get(`${metric}\u0000${scope}`);

  // Scopes in a stable order: all voxels first, then the subject's ROIs by name.
  const responseSet = await ctx.db.responseSet.findUniqueOrThrow({
    where: { id: ctx.params.responseSetId },
    include: { artifact: true, subject: { include: { rois: { orderBy: { name: 'asc' } } } } },
  });
  const present = new Set(scores.filter((s) => s.metric === CV_METRIC).map((s) => s.scope));
  const scopes = ['all', ...responseSet.subject.rois.map((r) => `roi:${r.name}`)].filter((s) => present.has(s));

  const cvByLayer = layerRuns.map((l) => scopes.map((scope) => score(l, CV_METRIC, scope)?.value ?? NaN));
  const best = bestLayerPerScope(cvByLayer, scopes.length);

  const records: ScoreRecord[] = [];
  scopes.forEach((scope, si) => {
    const li = best[si];
    if (li < 0) return;
    const chosen = layerRuns[li];
    for (const metric of SWEEP_TEST_METRICS) {
      const test = score(chosen, metric, scope);
      if (!test) continue;
      records.push({
        metric: sweepMetric(metric),
        scope,
        roiId: test.roiId,
        value: test.value,
        ciLow: test.ciLow,
        ciHigh: test.ciHigh,
        normalized: test.normalized,
        n: test.n,
        extra: {
          layer: chosen.layer,
          layerIndex: li,
          runId: chosen.run.id,
          selectedBy: CV_METRIC,
          cvValue: cvByLayer[li][si],
          nLayers: layerRuns.length,
        },
      });
    }
  });

  // Per voxel: the layer with the best CV score, and that layer's CV score and test r there.
  await ctx.progress(0.93, 'choosing the best layer per voxel');
  const maps = async (name: string) =>
    Promise.all(
      layerRuns.map(async (l) => {
        const id = (l.run.outputs as Record<string, string>)[name];
        const artifact = id ? await ctx.db.artifact.findUnique({ where: { id } }) : null;
        if (!artifact) throw new RunInputError(`The fit of layer ${JSON.stringify(l.layer)} (run ${l.run.id}) has no ${name} map`);
        return loadVector(runCtx, artifact);
      }),
    );
  const cvMaps = await maps('cvScore');
  const choice = bestLayerPerVoxel(cvMaps);
  const testR = valuesAtChosenLayer(await maps('pearsonR'), choice.layer);
  const nVoxels = choice.layer.length;
  const outputs = {
    bestLayer: await saveArray(runCtx, choice.layer, [nVoxels], 'best-layer.npy'),
    bestLayerCvScore: await saveArray(runCtx, choice.cvScore, [nVoxels], 'best-layer-cv-score.npy'),
    bestLayerPearsonR: await saveArray(runCtx, testR, [nVoxels], 'best-layer-pearson-r.npy'),
  };

  const features: Record<string, unknown> = {};
  for (const l of layerRuns) features[l.layer] = (l.run.provenance as { inputs?: { features?: string } }).inputs?.features ?? null;
  ctx.recordProvenance({
    inputs: { responses: responseSet.artifact?.sha256 ?? null, ...Object.fromEntries(Object.entries(features).map(([k, v]) => [`features:${k}`, v])) },
    layers: layerRuns.map((l, i) => ({ index: i, layer: l.layer, featureSetId: l.featureSetId, runId: l.run.id })),
    selection: `per scope, the layer with the highest ${CV_METRIC} (cross-validated on the training stimuli); reported scores are that layer's test scores`,
    nVoxels,
  });
  return { outputs, scores: records.filter((r) => Number.isFinite(r.value)) };
}
