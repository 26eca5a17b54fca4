// Submitting a representational-similarity run: the layers (feature sets named directly, or a
// model's layers by name), the scored stimulus subset and the selection stimuli the best layer is
// chosen on, all checked against the catalog before anything is queued.
import { badInput } from '../errors';
import type { FeatureSet, Run } from '../generated/prisma/client';
import {
  DEFAULT_SELECTION_STIMULI,
  MAX_RSA_STIMULI,
  MIN_RSA_STIMULI,
  cellScope,
  representationalSimilarityJob,
  rsaMetric,
} from '../jobs/representational-similarity';
import type { DomainContext } from './context';
import { plainLookups, type Lookups } from './lookups';
import { RSA_MEASURES, type RsaMeasure } from '../compute/rsa';
import { assertCanWrite, visibleOrThrow } from './access';
import { sharedStimuli } from './encoding';
import { sweepOrder } from './layer-sweep';
import { parseParams, submitRun } from './runs';
import { requireUuid } from './validate';
import { decodeNpy, readPrefix } from '../storage';

export interface RepresentationalSimilarityRequest {
  featureSetIds?: string[] | null;
  modelId?: string | null;
  layers?: string[] | null;
  responseSetId: string;
  stimulusIds?: string[] | null;
  selectionStimulusIds?: string[] | null;
  distance?: 'correlation' | 'euclidean' | 'crossnobis' | null;
  modelDistance?: 'correlation' | 'euclidean' | null;
  comparisons?: RsaMeasure[] | null;
  bootstrapSamples?: number | null;
  benchmarkId?: string | null;
  idempotencyKey?: string | null;
}

const quoteList = (xs: string[], max = 5) => `${xs.slice(0, max).map((x) => JSON.stringify(x)).join(', ')}${xs.length > max ? `, ... (${xs.length} in all)` : ''}`;
const layerName = (f: FeatureSet) => f.layer || '(single output)';
const duplicatesOf = (xs: string[]) => [...new Set(xs.filter((x, i) => xs.indexOf(x) !== i))];

export async function submitRepresentationalSimilarity(ctx: DomainContext, input: RepresentationalSimilarityRequest) {
  const responseSet = await ctx.db.responseSet.findUnique({
    where: { id: requireUuid(input.responseSetId, 'responseSetId') },
    include: { subject: { include: { dataset: true, rois: { orderBy: { name: 'asc' } } } }, stimulusSet: true },
  });
  const dataset = visibleOrThrow(ctx.viewer, 'Response set', input.responseSetId, responseSet?.subject.dataset);
  const rs = responseSet!;
  const { model, chosen } = await chooseLayers(ctx, input, rs.stimulusSetId, rs.stimulusSet.name);
  assertCanWrite(ctx.viewer, dataset.labId);
  if (rs.status !== 'READY') throw badInput(`Response set ${rs.id} is ${rs.status}; import it before comparing`, 'responseSetId');

  // The scored subset: named, or the stimuli every subject saw, or (one subject) all of them.
  const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId: rs.stimulusSetId }, select: { externalId: true }, orderBy: { position: 'asc' } });
  const all = stimuli.map((s) => s.externalId);
  const known = new Set(all);
  const scored = await scoredSubset(ctx, input.stimulusIds, dataset.id, all);
  checkSubset(scored, known, 'stimulusIds', 'scored');
  if (scored.length < MIN_RSA_STIMULI)
    throw badInput(`The stimulus subset has ${scored.length} stimuli; an RDM comparison needs at least ${MIN_RSA_STIMULI}`, 'stimulusIds');
  if (scored.length > MAX_RSA_STIMULI) throw badInput(`The stimulus subset has ${scored.length} stimuli; at most ${MAX_RSA_STIMULI} are compared per run`, 'stimulusIds');

  // Selection stimuli: only needed to choose among several layers, never among the scored ones.
  let selection: string[] = [];
  if (chosen.length > 1) {
    const scoredSet = new Set(scored);
    if (input.selectionStimulusIds) {
      selection = input.selectionStimulusIds;
      checkSubset(selection, known, 'selectionStimulusIds', 'selection');
      const overlap = selection.filter((id) => scoredSet.has(id));
      if (overlap.length)
        throw badInput(`${overlap.length} selection stimuli are also scored (${quoteList(overlap)}); the best layer must be chosen without the scored stimuli`, 'selectionStimulusIds');
    } else {
      const rest = all.filter((id) => !scoredSet.has(id));
      // Evenly spaced over the rest, so a long training set is sampled rather than truncated.
      const k = Math.min(rest.length, DEFAULT_SELECTION_STIMULI);
      selection = Array.from({ length: k }, (_, i) => rest[Math.floor((i * rest.length) / k)]);
    }
    if (selection.length < MIN_RSA_STIMULI)
      throw badInput(
        `Choosing the best of ${chosen.length} layers needs at least ${MIN_RSA_STIMULI} stimuli outside the scored subset (${selection.length} available); ` +
          'score a smaller subset, pass selectionStimulusIds, or compare one layer',
        input.selectionStimulusIds ? 'selectionStimulusIds' : 'stimulusIds',
      );
  }

  const distance = input.distance ?? 'correlation';
  if (distance === 'crossnobis' && !((rs.nRepeats ?? 1) >= 2))
    throw badInput(`crossnobis needs repeated presentations; response set ${rs.id} has ${rs.nRepeats ?? 1} per stimulus. Use correlation or euclidean`, 'distance');
  if (distance === 'correlation') {
    // A pattern over fewer than 2 voxels is constant: its correlation distance is undefined.
    const tiny = rs.subject.rois.filter((r) => r.voxelIndices.length < 2);
    if (tiny.length)
      throw badInput(`ROI(s) ${quoteList(tiny.map((r) => r.name))} have fewer than 2 voxels: correlation distance is undefined on them. Use distance euclidean`, 'distance');
  }
  if (input.benchmarkId) {
    const bench = await ctx.db.benchmark.findUnique({ where: { id: requireUuid(input.benchmarkId, 'benchmarkId') } });
    if (!bench) throw badInput(`Benchmark ${input.benchmarkId} does not exist`, 'benchmarkId');
    if (bench.kind !== 'RSA') throw badInput(`Benchmark ${JSON.stringify(bench.name)} is of kind ${bench.kind}; representational-similarity scores go on RSA benchmarks`, 'benchmarkId');
  }

  const params = parseParams(representationalSimilarityJob, {
    responseSetId: rs.id,
    modelId: model.id,
    layers: chosen.map((f) => ({ layer: f.layer, featureSetId: f.id })),
    stimulusIds: scored,
    selectionStimulusIds: selection,
    distance,
    ...(input.modelDistance != null ? { modelDistance: input.modelDistance } : {}),
    ...(input.comparisons != null ? { comparisons: input.comparisons } : {}),
    ...(input.bootstrapSamples != null ? { bootstrapSamples: input.bootstrapSamples } : {}),
  });
  const dupComparisons = duplicatesOf(params.comparisons);
  if (dupComparisons.length) throw badInput(`Comparisons named more than once: ${quoteList(dupComparisons)}`, 'comparisons');

  const { run } = await submitRun(ctx, representationalSimilarityJob, {
    labId: dataset.labId,
    benchmarkId: input.benchmarkId ?? null,
    modelId: model.id,
    subjectId: rs.subjectId,
    inputs: { datasetIds: [dataset.id], modelIds: [model.id], runIds: [] },
    idempotencyKey: input.idempotencyKey,
    params,
  });
  return run;
}

async function scoredSubset(ctx: DomainContext, given: string[] | null | undefined, datasetId: string, all: string[]): Promise<string[]> {
  if (given) {
    const dups = duplicatesOf(given);
    if (dups.length) throw badInput(`Stimuli named more than once in the subset: ${quoteList(dups)}`, 'stimulusIds');
    return given;
  }
  try {
    const shared = new Set(await sharedStimuli(ctx, datasetId));
    return all.filter((id) => shared.has(id));
  } catch {
    // One subject: nothing is shared, the whole stimulus set is compared.
    return all;
  }
}

function checkSubset(ids: string[], known: Set<string>, field: string, what: string) {
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) throw badInput(`${unknown.length} ${what} stimuli are not in the response set's stimulus set: ${quoteList(unknown)}`, field);
}

/** The feature sets compared: named by id (one model, the response set's stimuli) or by model and layer names. */
async function chooseLayers(ctx: DomainContext, input: RepresentationalSimilarityRequest, stimulusSetId: string, stimulusSetName: string) {
  const byIds = input.featureSetIds != null;
  if (byIds === (input.modelId != null)) throw badInput('Give either featureSetIds or modelId (with optional layers), not both or neither', byIds ? 'modelId' : 'featureSetIds');
  if (byIds) {
    const ids = input.featureSetIds!;
    if (ids.length === 0) throw badInput('Name at least one feature set', 'featureSetIds');
    if (input.layers) throw badInput('layers goes with modelId; with featureSetIds each feature set is one layer', 'layers');
    const dups = duplicatesOf(ids);
    if (dups.length) throw badInput(`Feature sets named more than once: ${quoteList(dups)}`, 'featureSetIds');
    const sets: FeatureSet[] = [];
    for (const [i, id] of ids.entries()) {
      const f = await ctx.db.featureSet.findUnique({ where: { id: requireUuid(id, `featureSetIds[${i}]`) }, include: { model: true } });
      visibleOrThrow(ctx.viewer, 'Feature set', id, f?.model);
      sets.push(f!);
    }
    const models = [...new Set(sets.map((f) => f.modelId))];
    if (models.length > 1) throw badInput(`The feature sets belong to ${models.length} models; one run compares the layers of one model`, 'featureSetIds');
    const elsewhere = sets.filter((f) => f.stimulusSetId !== stimulusSetId);
    if (elsewhere.length)
      throw badInput(
        `${elsewhere.length} feature set(s) cover other stimuli than the response set (stimulus set ${JSON.stringify(stimulusSetName)}): ${quoteList(elsewhere.map((f) => f.id))}; features must exist for the stimuli the subject saw`,
        'featureSetIds',
      );
    notReady(sets, 'featureSetIds');
    const model = await ctx.db.model.findUniqueOrThrow({ where: { id: models[0] } });
    return { model, chosen: sets };
  }
  const model = visibleOrThrow(ctx.viewer, 'Model', input.modelId!, await ctx.db.model.findUnique({ where: { id: requireUuid(input.modelId!, 'modelId') } }));
  const all = await ctx.db.featureSet.findMany({ where: { modelId: model.id }, orderBy: { createdAt: 'asc' } });
  const here = sweepOrder(all.filter((f) => f.stimulusSetId === stimulusSetId), model.layers);
  if (here.length === 0)
    throw badInput(`Model ${JSON.stringify(model.name)} has no features for stimulus set ${JSON.stringify(stimulusSetName)}; import or extract them for the stimuli the subject saw first`, 'modelId');
  let chosen = here;
  if (input.layers) {
    if (input.layers.length === 0) throw badInput('Name at least one layer, or leave layers out to compare every layer', 'layers');
    const dups = duplicatesOf(input.layers);
    if (dups.length) throw badInput(`Layers named more than once: ${quoteList(dups)}`, 'layers');
    const byLayer = new Map(here.map((f) => [f.layer, f]));
    const unknown = input.layers.filter((l) => !byLayer.has(l));
    if (unknown.length)
      throw badInput(
        `${unknown.length} layer(s) have no features of model ${JSON.stringify(model.name)} for stimulus set ${JSON.stringify(stimulusSetName)}: ${quoteList(unknown)}. Layers available: ${quoteList(here.map(layerName), 20)}`,
        'layers',
      );
    chosen = input.layers.map((l) => byLayer.get(l)!);
  }
  notReady(chosen, 'layers');
  return { model, chosen };
}

function notReady(sets: FeatureSet[], field: string) {
  const waiting = sets.filter((f) => f.status !== 'READY');
  if (waiting.length)
    throw badInput(`${waiting.length} feature set(s) are not READY yet: ${quoteList(waiting.map((f) => `${layerName(f)} (${f.status})`))}; wait for their import or extraction`, field);
}

// ---- Reading a finished run back for the API and the dashboard ----

const roiOf = (scope: string) => (scope.startsWith('roi:') ? scope.slice(4) : null);

export interface RsaResultModel {
  measures: RsaMeasure[];
  distance: string;
  modelDistance: string;
  layers: string[];
  scopes: string[];
  nStimuli: number;
  nSelection: number;
  cells: { layer: string; layerIndex: number; scope: string; roi: string | null; measure: RsaMeasure; value: number; normalized: number | null; selectionValue: number | null; best: boolean }[];
  bestLayers: {
    scope: string;
    roi: string | null;
    measure: RsaMeasure;
    layer: string;
    layerIndex: number;
    value: number;
    ciLow: number | null;
    ciHigh: number | null;
    normalized: number | null;
    selectionValue: number | null;
    ceilingLower: number | null;
    ceilingUpper: number | null;
    ceilingMethod: string | null;
    ceilingSubjects: number | null;
  }[];
  run: Run;
}

/** The layer x scope matrix and the chosen layers of a REPRESENTATIONAL_SIMILARITY run, from its scores. */
export async function rsaResult(ctx: DomainContext, run: Run): Promise<RsaResultModel | null> {
  if (run.kind !== 'REPRESENTATIONAL_SIMILARITY') return null;
  const parsed = representationalSimilarityJob.params.safeParse(run.params);
  if (!parsed.success) return null;
  const p = parsed.data;
  const layers = p.layers.map((l) => l.layer);
  const metrics = p.comparisons.map(rsaMetric);
  const scores = await ctx.db.score.findMany({ where: { runId: run.id, metric: { in: metrics } } });
  const measureOf = (metric: string) => metric.slice(4) as RsaMeasure;
  const best = scores.filter((s) => !s.scope.startsWith('layer:'));
  const scopeSet = new Set(best.map((s) => s.scope));
  const scopes = [...scopeSet].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : a.localeCompare(b)));
  const bestLayers = best
    .map((s) => {
      const e = (s.extra ?? {}) as Record<string, unknown>;
      const num = (k: string) => (typeof e[k] === 'number' ? (e[k] as number) : null);
      return {
        scope: s.scope,
        roi: roiOf(s.scope),
        measure: measureOf(s.metric),
        layer: String(e.layer ?? ''),
        layerIndex: Number(e.layerIndex ?? -1),
        value: s.value,
        ciLow: s.ciLow,
        ciHigh: s.ciHigh,
        normalized: s.normalized,
        selectionValue: num('selectionValue'),
        ceilingLower: num('ceilingLower'),
        ceilingUpper: num('ceilingUpper'),
        ceilingMethod: typeof e.ceilingMethod === 'string' ? e.ceilingMethod : null,
        ceilingSubjects: num('ceilingSubjects'),
      };
    })
    .sort((a, b) => scopes.indexOf(a.scope) - scopes.indexOf(b.scope) || p.comparisons.indexOf(a.measure) - p.comparisons.indexOf(b.measure));
  const chosen = new Set(bestLayers.map((b) => `${b.scope}\u0000${b.measure}\u0000${b.layerIndex}`));
  const byKey = new Map(scores.map((s) => [`${s.metric}\u0000${s.scope}`, s]));
  const cells: RsaResultModel['cells'] = [];
  layers.forEach((layer, layerIndex) => {
    for (const scope of scopes)
      for (const measure of p.comparisons) {
        const s = byKey.get(`${rsaMetric(measure)}\u0000${cellScope(layer, scope)}`);
        if (!s) continue;
        const e = (s.extra ?? {}) as { selectionValue?: number | null };
        cells.push({
          layer,
          layerIndex,
          scope,
          roi: roiOf(scope),
          measure,
          value: s.value,
          normalized: s.normalized,
          selectionValue: typeof e.selectionValue === 'number' ? e.selectionValue : null,
          best: chosen.has(`${scope}\u0000${measure}\u0000${layerIndex}`),
        });
      }
  });
  const prov = (run.provenance ?? {}) as { nSelection?: number };
  return {
    measures: p.comparisons,
    distance: p.distance,
    modelDistance: p.modelDistance,
    layers,
    scopes,
    nStimuli: p.stimulusIds.length,
    nSelection: typeof prov.nSelection === 'number' ? prov.nSelection : p.layers.length > 1 ? p.selectionStimulusIds.length : 0,
    cells,
    bestLayers,
    run,
  };
}

export { RSA_MEASURES };

/** Heatmap arrays are at most 200 layers x 200 x 200 float32; refuse anything larger. */
const MAX_HEATMAP_BYTES = 64 << 20;

async function readArray(ctx: DomainContext, lookups: Lookups, artifactId: string | undefined): Promise<{ shape: number[]; data: Float32Array } | null> {
  if (!artifactId) return null;
  const artifact = await lookups.artifact.load(artifactId);
  if (!artifact || Number(artifact.size) > MAX_HEATMAP_BYTES) return null;
  const bytes = await readPrefix(await ctx.services.store.get(artifact.sha256), MAX_HEATMAP_BYTES);
  const npy = decodeNpy(new Uint8Array(bytes));
  return { shape: npy.shape, data: Float32Array.from(npy.data as ArrayLike<number>) };
}

export interface RsaHeatmapsModel {
  stimuli: { position: number; externalId: string; concepts: string[] }[];
  brain: { label: string; size: number; values: number[] }[];
  model: { label: string; size: number; values: number[] }[];
}

/** Square RDMs over the run's heatmap stimuli, brain scopes and model layers side by side. */
export async function rsaHeatmaps(ctx: DomainContext, result: RsaResultModel, lookups: Lookups = plainLookups(ctx)): Promise<RsaHeatmapsModel | null> {
  const outputs = (result.run.outputs ?? {}) as Record<string, string>;
  const [brain, model, positions] = await Promise.all([readArray(ctx, lookups, outputs.brainRdms), readArray(ctx, lookups, outputs.modelRdms), readArray(ctx, lookups, outputs.heatmapStimuli)]);
  if (!brain || !model || !positions) return null;
  const p = representationalSimilarityJob.params.parse(result.run.params);
  const responseSet = await ctx.db.responseSet.findUnique({ where: { id: p.responseSetId }, select: { stimulusSetId: true } });
  const pos = Array.from(positions.data, Math.round);
  const rows = responseSet ? await ctx.db.stimulus.findMany({ where: { stimulusSetId: responseSet.stimulusSetId, position: { in: pos } } }) : [];
  const byPos = new Map(rows.map((s) => [s.position, s]));
  const k = pos.length;
  const split = (a: { data: Float32Array }, labels: string[]) => labels.map((label, i) => ({ label, size: k, values: Array.from(a.data.subarray(i * k * k, (i + 1) * k * k)) }));
  const scopeNames = ((result.run.provenance ?? {}) as { scopes?: string[] }).scopes ?? result.scopes;
  return {
    stimuli: pos.map((position) => ({ position, externalId: byPos.get(position)?.externalId ?? String(position), concepts: byPos.get(position)?.concepts ?? [] })),
    brain: split(brain, scopeNames.slice(0, brain.shape[0])),
    model: split(model, result.layers.slice(0, model.shape[0])),
  };
}
