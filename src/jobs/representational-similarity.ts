// REPRESENTATIONAL_SIMILARITY: how alike a model's layers and a subject's brain represent the same
// stimuli, per scope (all voxels and each ROI) and layer, by RSA (Spearman, Kendall tau-a and
// Pearson of the RDMs' upper triangles) and CKA (linear and debiased, on the centred patterns).
// The numbers come from src/compute/rsa/analysis.ts; this module reads the arrays and writes:
//   scores rsa.<measure> with scope layer:<layer>|all, layer:<layer>|roi:<name> (the layer x ROI
//     matrix, one cell per layer; never on a leaderboard);
//   scores rsa.<measure> with scope all / roi:<name>: each scope at its chosen layer (the best on
//     the selection stimuli, disjoint from the scored ones), with the 95% bootstrap interval and
//     the ceiling-normalised value; these are what RSA benchmarks rank;
//   outputs brainRdms [scopes, k, k], modelRdms [layers, k, k] and heatmapStimuli [k] (stimulus-set
//     positions): square RDMs over k of the scored stimuli for heatmaps.
import { z } from 'zod';
import { sharedEngine } from '../compute/engine-instance';
import { ComputeError } from '../compute/errors';
import {
  ceilingNormalized,
  ConstantPatternError,
  representationalSimilarity,
  RSA_DISTANCES,
  RSA_MEASURES,
  type OtherSubject,
  type RsaResult,
  type RsaScope,
} from '../compute/rsa';
import { RunInputError, type ScoreRecord } from '../runs/types';
import { defineJob, type JobContext } from './define';
import { loadRows } from './io/load-rows';
import { saveArray } from './io/outputs';

export const MAX_RSA_LAYERS = 200;
export const MAX_RSA_BOOTSTRAP = 10_000;
export const MAX_RSA_STIMULI = 20_000;
/** Most selection stimuli taken by default (their RDMs only decide the best layer). */
export const DEFAULT_SELECTION_STIMULI = 1000;
export const MIN_RSA_STIMULI = 4;
export const RSA_MODEL_DISTANCES = ['correlation', 'euclidean'] as const;

/** Score metric of a measure: rsa.spearman, rsa.cka_debiased, ... */
export const rsaMetric = (measure: string) => `rsa.${measure}`;
/** Scope of a layer x ROI cell. */
export const cellScope = (layer: string, scope: string) => `layer:${layer}|${scope}`;

const bootstrapMessage = `bootstrapSamples must be an integer from 0 to ${MAX_RSA_BOOTSTRAP}`;

export const representationalSimilarityParams = z.object({
  responseSetId: z.uuid(),
  modelId: z.uuid(),
  /** In depth order; one feature set per layer, all over the response set's stimuli. */
  layers: z
    .array(z.object({ layer: z.string(), featureSetId: z.uuid() }))
    .min(1, { message: 'name at least one layer or feature set' })
    .max(MAX_RSA_LAYERS, { message: `at most ${MAX_RSA_LAYERS} layers per run` }),
  /** externalIds of the scored stimuli. */
  stimulusIds: z
    .array(z.string())
    .min(MIN_RSA_STIMULI, { message: `an RDM comparison needs at least ${MIN_RSA_STIMULI} stimuli` })
    .max(MAX_RSA_STIMULI, { message: `at most ${MAX_RSA_STIMULI} scored stimuli` }),
  /** externalIds the best layer is chosen on (disjoint from stimulusIds); empty with one layer. */
  selectionStimulusIds: z.array(z.string()).max(MAX_RSA_STIMULI).default([]),
  distance: z.enum(RSA_DISTANCES).default('correlation'),
  modelDistance: z.enum(RSA_MODEL_DISTANCES).default('correlation'),
  comparisons: z
    .array(z.enum(RSA_MEASURES))
    .min(1, { message: 'name at least one comparison' })
    .default([...RSA_MEASURES]),
  bootstrapSamples: z.number().int({ message: bootstrapMessage }).min(0, { message: bootstrapMessage }).max(MAX_RSA_BOOTSTRAP, { message: bootstrapMessage }).default(1000),
  heatmapStimuli: z.number().int().min(MIN_RSA_STIMULI).max(200).default(60),
  seed: z.number().int().default(0),
});
export type RepresentationalSimilarityParams = z.output<typeof representationalSimilarityParams>;

const ALL = 'all';

export const representationalSimilarityJob = defineJob({
  kind: 'REPRESENTATIONAL_SIMILARITY',
  params: representationalSimilarityParams,
  async handle(ctx) {
    const p = ctx.params;
    const responseSet = await ctx.db.responseSet.findUnique({
      where: { id: p.responseSetId },
      include: { artifact: true, subject: { include: { rois: { orderBy: { name: 'asc' } } } } },
    });
    if (!responseSet?.artifact) throw new RunInputError('The response set no longer has its array');
    const featureSets = await ctx.db.featureSet.findMany({ where: { id: { in: p.layers.map((l) => l.featureSetId) } }, include: { artifact: true } });
    const byId = new Map(featureSets.map((f) => [f.id, f]));
    const layers = p.layers.map((l) => {
      const f = byId.get(l.featureSetId);
      if (!f?.artifact) throw new RunInputError(`The features of layer ${JSON.stringify(l.layer)} no longer have their array`, { layer: l.layer });
      return { ...l, artifact: f.artifact };
    });

    const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId: responseSet.stimulusSetId }, select: { externalId: true, position: true }, orderBy: { position: 'asc' } });
    const positionOf = new Map(stimuli.map((s) => [s.externalId, s.position]));
    const positions = (ids: string[]) => {
      const missing = ids.filter((id) => !positionOf.has(id));
      if (missing.length) throw new RunInputError(`${missing.length} stimuli are no longer in the stimulus set`, { missing: missing.slice(0, 10) });
      return Int32Array.from(ids, (id) => positionOf.get(id)!);
    };
    const scored = positions(p.stimulusIds);
    const selection = p.layers.length > 1 ? positions(p.selectionStimulusIds) : new Int32Array(0);
    const nRows = stimuli.length;
    const keepRepeats = true;

    await ctx.progress(0.01, `loading responses (${scored.length} scored, ${selection.length} selection stimuli)`);
    const brain = await loadRows(ctx, responseSet.artifact, scored, nRows, { keepRepeats });
    const brainSelection = selection.length ? await loadRows(ctx, responseSet.artifact, selection, nRows, { keepRepeats: p.distance === 'crossnobis' }) : null;
    if (p.distance === 'crossnobis' && !(brain.repeats && brain.repeats.length >= 2))
      throw new RunInputError('crossnobis needs responses with at least 2 repeats; this response set has one presentation per stimulus');
    await ctx.progress(0.03, `loading features of ${layers.length} layer(s)`);
    const layerInputs = [];
    for (const l of layers) {
      const shape = l.artifact.shape;
      const n = shape.length === 3 ? shape[1] : shape[0];
      layerInputs.push({
        name: l.layer,
        scored: (await loadRows(ctx, l.artifact, scored, n)).mean,
        selection: selection.length ? (await loadRows(ctx, l.artifact, selection, n)).mean : null,
      });
    }

    const scopes: RsaScope[] = [{ name: ALL, voxels: null }, ...responseSet.subject.rois.map((r) => ({ name: `roi:${r.name}`, voxels: r.voxelIndices }))];
    const otherSubjects = await ceilingSubjects(ctx, responseSet.subject.datasetId, responseSet.subjectId, p.stimulusIds, scopes);
    const k = Math.min(p.heatmapStimuli, scored.length);
    const heatmapStimuli = Int32Array.from({ length: k }, (_, i) => Math.floor((i * scored.length) / k));

    const engine = await sharedEngine();
    ctx.recordProvenance({
      inputs: {
        responses: responseSet.artifact.sha256,
        ...Object.fromEntries(layers.map((l) => [`features:${l.layer}`, l.artifact.sha256])),
      },
      engine: engine.provenance,
      subject: responseSet.subject.name,
      ceilingSubjects: otherSubjects.map((o) => o.name),
    });
    let result: RsaResult;
    try {
      result = await representationalSimilarity(engine, {
        scopes,
        brain,
        brainSelection,
        layers: layerInputs,
        otherSubjects,
        measures: p.comparisons,
        distance: p.distance,
        modelDistance: p.modelDistance,
        bootstrapSamples: p.bootstrapSamples,
        seed: p.seed,
        heatmapStimuli,
        progress: (f, m) => ctx.progress(0.05 + 0.85 * f, m),
      });
    } catch (err) {
      if (err instanceof ConstantPatternError) {
        const ids = err.which === 'selection' ? p.selectionStimulusIds : p.stimulusIds;
        const names = err.stimuli.slice(0, 5).map((i) => JSON.stringify(ids[i]));
        throw new RunInputError(
          `${err.stimuli.length} stimuli have a constant pattern over ${err.scope === ALL ? 'all voxels' : err.scope} (${names.join(', ')}${err.stimuli.length > 5 ? ', ...' : ''}): ` +
            `their correlation distance is undefined. Use distance euclidean, or leave these stimuli out of the subset`,
          { scope: err.scope, stimuli: err.stimuli.slice(0, 100).map((i) => ids[i]) },
        );
      }
      if (err instanceof ComputeError) throw new RunInputError(err.message, { code: err.code });
      throw err;
    }

    await ctx.progress(0.95, 'storing results');
    const roiIds = new Map(responseSet.subject.rois.map((r) => [`roi:${r.name}`, r.id]));
    const scores: ScoreRecord[] = [];
    for (const c of result.cells) {
      const scope = scopes[c.scopeIndex].name;
      scores.push({
        metric: rsaMetric(c.measure),
        scope: cellScope(layers[c.layerIndex].layer, scope),
        roiId: roiIds.get(scope) ?? null,
        value: c.value,
        normalized: ceilingNormalized(c.value, result.ceilings[c.scopeIndex][c.measure]),
        n: result.nStimuli,
        extra: { layer: layers[c.layerIndex].layer, layerIndex: c.layerIndex, scope, selectionValue: finiteOrNull(c.selectionValue) },
      });
    }
    for (const b of result.best) {
      const scope = scopes[b.scopeIndex].name;
      const ceiling = result.ceilings[b.scopeIndex][b.measure];
      const normalized = ceilingNormalized(b.value, ceiling);
      scores.push({
        metric: rsaMetric(b.measure),
        scope,
        roiId: roiIds.get(scope) ?? null,
        benchmarkId: ctx.run.benchmarkId,
        value: b.value,
        ciLow: finiteOrNull(b.ci[0]),
        ciHigh: finiteOrNull(b.ci[1]),
        normalized,
        n: result.nStimuli,
        extra: {
          layer: layers[b.layerIndex].layer,
          layerIndex: b.layerIndex,
          nLayers: layers.length,
          selectedBy: layers.length > 1 ? 'selection stimuli' : 'only layer',
          selectionValue: finiteOrNull(b.selectionValue),
          nSelection: result.nSelection,
          nBootstrap: b.nBootstrap,
          ceilingLower: finiteOrNull(ceiling?.lower ?? NaN),
          ceilingUpper: finiteOrNull(ceiling?.upper ?? NaN),
          ceilingMethod: ceiling?.method ?? null,
          ceilingSubjects: ceiling?.nSubjects ?? null,
          ceilingDistance: ceiling?.distance ?? null,
          aboveCeiling: normalized != null && normalized > 1,
        },
      });
    }

    const outputs: Record<string, string> = {};
    if (result.heatmaps) {
      const flat = (ms: Float32Array[]) => {
        const out = new Float32Array(ms.length * k * k);
        ms.forEach((m, i) => out.set(m, i * k * k));
        return out;
      };
      outputs.brainRdms = await saveArray(ctx, flat(result.heatmaps.brain), [scopes.length, k, k], 'brain-rdms.npy');
      outputs.modelRdms = await saveArray(ctx, flat(result.heatmaps.model), [layers.length, k, k], 'model-rdms.npy');
      outputs.heatmapStimuli = await saveArray(ctx, Array.from(heatmapStimuli, (i) => scored[i]), [k], 'heatmap-stimuli.npy');
    }
    ctx.recordProvenance({
      scopes: scopes.map((s) => s.name),
      layers: layers.map((l, i) => ({ index: i, layer: l.layer, featureSetId: l.featureSetId })),
      nStimuli: result.nStimuli,
      nSelection: result.nSelection,
      bootstrap: 'stimuli resampled with replacement; pairs of a stimulus with its own copy are dropped (rsatoolbox), for CKA the Gram entries of those pairs (linear: inner product of the centred Grams over the other entries; debiased: unbiased HSIC over 4-tuples of draws of different stimuli); 95% percentile intervals',
      selection: layers.length > 1 ? 'per scope and measure, the layer with the highest value on the selection stimuli (disjoint from the scored ones)' : 'one layer',
      normalisation: 'value / upper bound of the noise ceiling',
      seconds: result.seconds,
    });
    return { outputs, scores: scores.filter((s) => Number.isFinite(s.value)) };
  },
});

/**
 * The dataset's other subjects with READY responses to every scored stimulus (matched by
 * externalId): the across-subject ceiling compares geometries over exactly the same stimuli.
 * ROIs are matched by name.
 */
async function ceilingSubjects(ctx: JobContext<RepresentationalSimilarityParams>, datasetId: string, subjectId: string, ids: string[], scopes: RsaScope[]): Promise<OtherSubject[]> {
  const sets = await ctx.db.responseSet.findMany({
    where: { status: 'READY', subject: { datasetId, id: { not: subjectId } } },
    include: { artifact: true, subject: { include: { rois: true } } },
    orderBy: [{ subject: { name: 'asc' } }, { createdAt: 'asc' }],
  });
  const out: OtherSubject[] = [];
  const seen = new Set<string>();
  for (const set of sets) {
    if (seen.has(set.subjectId) || !set.artifact) continue;
    if (ctx.params.distance === 'crossnobis' && !((set.nRepeats ?? 1) >= 2)) continue;
    const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId: set.stimulusSetId }, select: { externalId: true, position: true } });
    const pos = new Map(stimuli.map((s) => [s.externalId, s.position]));
    if (!ids.every((id) => pos.has(id))) continue;
    seen.add(set.subjectId);
    const rois = new Map(set.subject.rois.map((r) => [`roi:${r.name}`, r.voxelIndices]));
    const map = new Map<string, ArrayLike<number> | null>();
    for (const s of scopes) {
      if (s.name === ALL) map.set(ALL, null);
      else if (rois.has(s.name)) map.set(s.name, rois.get(s.name)!);
    }
    const artifact = set.artifact;
    const nRows = stimuli.length;
    out.push({
      name: set.subject.name,
      scopes: map,
      load: () => loadRows(ctx, artifact, Int32Array.from(ids, (id) => pos.get(id)!), nRows, { keepRepeats: ctx.params.distance === 'crossnobis' }),
    });
  }
  return out;
}

function finiteOrNull(x: number | null): number | null {
  return x != null && Number.isFinite(x) ? x : null;
}
