// Submitting a layer sweep: every layer of a model that has features for the subject's stimuli
// (or the layers named), checked against the catalog before anything is queued, then one parent
// LAYER_SWEEP run and one child ENCODING_RIDGE run per layer written in one transaction.
import { badInput } from '../errors';
import type { FeatureSet, Run } from '../generated/prisma/client';
import { encodingRidge } from '../jobs/encoding-ridge';
import { childParams, layerSweep, sweepMetric, SWEEP_SELECTION_METRIC } from '../jobs/layer-sweep';
import type { DomainContext } from './context';
import { runReadableWhere } from '../access/readability';
import { visibleOrThrow } from './access';
import { encodingInputs } from './encoding';
import { checkBootstrapBudget, ridgeBootstrapBytesPerSample } from './run-budget';
import { parseParams, submitRun } from './runs';
import { requireUuid } from './validate';

export interface LayerSweepRequest {
  modelId: string;
  responseSetId: string;
  layers?: string[] | null;
  testStimulusIds?: string[] | null;
  alphas?: number[] | null;
  folds?: number | null;
  bootstrapSamples?: number | null;
  benchmarkId?: string | null;
  idempotencyKey?: string | null;
}

const quoteList = (xs: string[], max = 5) => `${xs.slice(0, max).map((x) => JSON.stringify(x)).join(', ')}${xs.length > max ? `, ... (${xs.length} in all)` : ''}`;

export async function submitLayerSweep(ctx: DomainContext, input: LayerSweepRequest) {
  const model = visibleOrThrow(ctx.viewer, 'Model', input.modelId, await ctx.db.model.findUnique({ where: { id: requireUuid(input.modelId, 'modelId') } }));
  const responseSet = await ctx.db.responseSet.findUnique({
    where: { id: requireUuid(input.responseSetId, 'responseSetId') },
    include: { subject: { include: { dataset: true } }, stimulusSet: true },
  });
  visibleOrThrow(ctx.viewer, 'Response set', input.responseSetId, responseSet?.subject.dataset);
  const stimulusSet = responseSet!.stimulusSet;

  const all = await ctx.db.featureSet.findMany({ where: { modelId: model.id }, orderBy: { createdAt: 'asc' } });
  const here = sweepOrder(
    all.filter((f) => f.stimulusSetId === stimulusSet.id),
    model.layers,
  );
  const layerName = (f: FeatureSet) => f.layer || '(single output)';
  if (here.length === 0) {
    const elsewhere = all.length ? ` (it has features for ${all.length} layer(s) of other stimulus sets)` : '';
    throw badInput(
      `Model ${JSON.stringify(model.name)} has no features for stimulus set ${JSON.stringify(stimulusSet.name)}${elsewhere}; import or extract them for the stimuli the subject saw first`,
      'modelId',
    );
  }

  let chosen: FeatureSet[];
  if (input.layers) {
    if (input.layers.length === 0) throw badInput('Name at least one layer, or leave layers out to sweep every layer', 'layers');
    const duplicates = [...new Set(input.layers.filter((l, i) => input.layers!.indexOf(l) !== i))];
    if (duplicates.length) throw badInput(`Layers named more than once: ${quoteList(duplicates)}`, 'layers');
    const byLayer = new Map(here.map((f) => [f.layer, f]));
    const unknown = input.layers.filter((l) => !byLayer.has(l));
    if (unknown.length) {
      const onOtherSets = unknown.filter((l) => all.some((f) => f.layer === l));
      throw badInput(
        `${unknown.length} layer(s) have no features of model ${JSON.stringify(model.name)} for stimulus set ${JSON.stringify(stimulusSet.name)}: ${quoteList(unknown)}` +
          (onOtherSets.length ? ` (${quoteList(onOtherSets)} only for other stimulus sets)` : '') +
          `. Layers available: ${quoteList(here.map(layerName), 20)}`,
        'layers',
      );
    }
    chosen = input.layers.map((l) => byLayer.get(l)!);
  } else {
    chosen = here;
  }
  const notReady = chosen.filter((f) => f.status !== 'READY');
  if (notReady.length)
    throw badInput(
      `${notReady.length} layer(s) are not READY yet: ${quoteList(notReady.map((f) => `${layerName(f)} (${f.status})`))}; wait for their import or extraction, or name the READY layers in layers`,
      'layers',
    );

  // Access, response set status, test split and benchmark: checked as for one ENCODING_RIDGE run.
  const { responseSet: rs, dataset, test, nTrain } = await encodingInputs(ctx, {
    featureSetId: chosen[0].id,
    responseSetId: responseSet!.id,
    testStimulusIds: input.testStimulusIds,
    benchmarkId: input.benchmarkId,
  });
  const params = parseParams(layerSweep, {
    modelId: model.id,
    responseSetId: rs.id,
    layers: chosen.map((f) => ({ layer: f.layer, featureSetId: f.id })),
    testStimulusIds: [...test].sort(),
    ...(input.alphas != null ? { alphas: input.alphas } : {}),
    ...(input.folds != null ? { folds: input.folds } : {}),
    ...(input.bootstrapSamples != null ? { bootstrapSamples: input.bootstrapSamples } : {}),
  });
  if (nTrain < 2 * params.folds)
    throw badInput(`${nTrain} training stimuli are too few for ${params.folds} folds (at least ${2 * params.folds} needed)`, 'folds');
  // Each layer's child run bootstraps on its own worker.
  const nVoxels = rs.subject.nVoxels;
  checkBootstrapBudget(ctx, { bootstrapSamples: params.bootstrapSamples, perSample: ridgeBootstrapBytesPerSample(test.size, nVoxels), shape: `${test.size} test stimuli x ${nVoxels} voxels` });

  const { run } = await submitRun(ctx, layerSweep, {
    labId: dataset.labId,
    benchmarkId: input.benchmarkId ?? null,
    modelId: model.id,
    subjectId: rs.subjectId,
    inputs: { datasetIds: [dataset.id], modelIds: [model.id], runIds: [] },
    idempotencyKey: input.idempotencyKey,
    params,
    children: params.layers.map((l) => ({ kind: 'ENCODING_RIDGE' as const, params: childParams(params, l.featureSetId) })),
  });
  return run;
}

/**
 * Depth order: the backbone's declared layers (its graph outputs, as registered) first in their
 * order, then any other layers in the order their features were added.
 */
export function sweepOrder(featureSets: FeatureSet[], declared: unknown): FeatureSet[] {
  const names = Array.isArray(declared) ? declared.map((l) => (l && typeof l === 'object' ? String((l as { name?: unknown }).name ?? '') : '')) : [];
  const rank = (f: FeatureSet) => {
    const i = names.indexOf(f.layer);
    return i < 0 ? names.length : i;
  };
  return featureSets.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
}

export interface LayerProfileModel {
  metric: string;
  selectionMetric: string;
  layers: string[];
  scopes: string[];
  cells: {
    layer: string;
    layerIndex: number;
    scope: string;
    roi: string | null;
    value: number | null;
    ciLow: number | null;
    ciHigh: number | null;
    normalized: number | null;
    cvValue: number | null;
    best: boolean;
    run: Run | null;
  }[];
  bestLayers: {
    scope: string;
    roi: string | null;
    layer: string;
    layerIndex: number;
    value: number;
    ciLow: number | null;
    ciHigh: number | null;
    normalized: number | null;
    cvValue: number | null;
  }[];
}

const roiOf = (scope: string) => (scope.startsWith('roi:') ? scope.slice(4) : null);

/**
 * The layer x scope matrix of a sweep, read from the ledger: the cells are the child runs' own
 * scores (so they fill in while the sweep runs), the best layers the sweep's layer_sweep.* scores.
 * Children the viewer may not read show no values.
 */
export async function layerProfile(ctx: DomainContext, sweep: Run, metric: string): Promise<LayerProfileModel | null> {
  if (sweep.kind !== 'LAYER_SWEEP') return null;
  const params = layerSweep.params.safeParse(sweep.params);
  if (!params.success) return null;
  const layers = params.data.layers;
  const children = await ctx.db.run.findMany({ where: { AND: [{ parentRunId: sweep.id }, runReadableWhere(ctx.viewer)] } });
  const byFeatureSet = new Map(children.map((c) => [encodingRidge.params.safeParse(c.params).data?.featureSetId, c]));
  const runs = layers.map((l) => byFeatureSet.get(l.featureSetId) ?? null);
  const childScores = await ctx.db.score.findMany({
    where: { runId: { in: children.map((c) => c.id) }, metric: { in: [metric, SWEEP_SELECTION_METRIC] } },
  });
  const sweepScores = await ctx.db.score.findMany({ where: { runId: sweep.id, metric: sweepMetric(metric) } });
  const key = (runId: string, m: string, scope: string) => `${runId}\u0000${m}\u0000${scope}`;
  const scores = new Map(childScores.map((s) => [key(s.runId, s.metric, s.scope), s]));
  const scopeSet = new Set(childScores.map((s) => s.scope));
  const scopes = [...scopeSet].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : a.localeCompare(b)));
  const bestLayers = sweepScores
    .map((s) => {
      const extra = (s.extra ?? {}) as { layer?: string; layerIndex?: number; cvValue?: number };
      return {
        scope: s.scope,
        roi: roiOf(s.scope),
        layer: String(extra.layer ?? ''),
        layerIndex: Number(extra.layerIndex ?? -1),
        value: s.value,
        ciLow: s.ciLow,
        ciHigh: s.ciHigh,
        normalized: s.normalized,
        cvValue: Number.isFinite(extra.cvValue) ? extra.cvValue! : null,
      };
    })
    .sort((a, b) => scopes.indexOf(a.scope) - scopes.indexOf(b.scope));
  const bestOf = new Map(bestLayers.map((b) => [b.scope, b.layerIndex]));
  const cells = layers.flatMap((l, layerIndex) =>
    scopes.map((scope) => {
      const run = runs[layerIndex];
      const test = run ? scores.get(key(run.id, metric, scope)) : undefined;
      const cv = run ? scores.get(key(run.id, SWEEP_SELECTION_METRIC, scope)) : undefined;
      return {
        layer: l.layer,
        layerIndex,
        scope,
        roi: roiOf(scope),
        value: test?.value ?? null,
        ciLow: test?.ciLow ?? null,
        ciHigh: test?.ciHigh ?? null,
        normalized: test?.normalized ?? null,
        cvValue: cv?.value ?? null,
        best: bestOf.get(scope) === layerIndex,
        run,
      };
    }),
  );
  return { metric, selectionMetric: SWEEP_SELECTION_METRIC, layers: layers.map((l) => l.layer), scopes, cells, bestLayers };
}
