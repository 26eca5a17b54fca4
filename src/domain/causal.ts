// Causal tests (BrainCause): registering concept queries with their controlled stimuli, and
// checking a CAUSAL_TEST request against the catalog before anything is queued.
import { badInput } from '../errors';
import type { ConceptQuery, Run } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { z } from 'zod';
import { causalTest, causalTestSettings, type CausalTestParams } from '../jobs/causal-test';
import type { CausalResultBody } from '../compute/causal/result';
import { readPrefix } from '../storage';
import { readableViaDataset, readableWhere } from '../access/readability';
import { assertCanWrite, visibleOrThrow } from './access';
import { visibleDataset, visibleSubject, writing } from './catalog';
import { parseParams, submitRun, visibleRun } from './runs';
import { visibleBenchmark } from './benchmarks';
import { optionalDescription, requireName, requireUnique, requireUuid } from './validate';

/** A split half needs at least 3 pairs and 2 images per group for its tests. */
export const MIN_PAIRS = 6;
export const MIN_GROUP = 4;
const MAX_IMAGES = 50_000;
const MAX_RESULT_BYTES = 64 * 1024 * 1024;

interface Image {
  externalId: string;
  caption?: string | null;
}

export interface CreateConceptQueryRequest {
  datasetId: string;
  name: string;
  concept: string;
  description?: string | null;
  positives: Image[];
  counterfactuals: (Image & { positive: string })[];
  distractorGroups: { cue: string; stimuli: Image[] }[];
  baseline: Image[];
}

export async function createConceptQuery(ctx: DomainContext, input: CreateConceptQueryRequest): Promise<ConceptQuery> {
  const dataset = await visibleDataset(ctx, input.datasetId);
  assertCanWrite(ctx.viewer, dataset.labId);
  const name = requireName(input.name, 'name');
  const concept = requireName(input.concept, 'concept');
  if (input.positives.length < MIN_PAIRS)
    throw badInput(`${input.positives.length} positives are too few: the discovery and held-out halves need at least 3 pairs each (give at least ${MIN_PAIRS})`, 'positives');
  const positiveIds = input.positives.map((p, i) => requireName(p.externalId, `positives[${i}].externalId`));
  requireUnique(positiveIds, 'positives.externalId');
  // Pairing: every counterfactual names a positive, every positive has exactly one counterfactual.
  const positiveIndex = new Map(positiveIds.map((id, i) => [id, i]));
  const pairedBy = new Map<string, number>();
  input.counterfactuals.forEach((cf, i) => {
    if (!positiveIndex.has(cf.positive))
      throw badInput(`counterfactuals[${i}] (${JSON.stringify(cf.externalId)}) names positive ${JSON.stringify(cf.positive)}, which is not among the positives`, `counterfactuals[${i}].positive`);
    const earlier = pairedBy.get(cf.positive);
    if (earlier !== undefined)
      throw badInput(`Positive ${JSON.stringify(cf.positive)} has two counterfactuals (counterfactuals[${earlier}] and [${i}]); pairs must be one-to-one`, `counterfactuals[${i}].positive`);
    pairedBy.set(cf.positive, i);
  });
  const unpaired = positiveIds.filter((id) => !pairedBy.has(id));
  if (unpaired.length)
    throw badInput(
      `${unpaired.length} positive${unpaired.length === 1 ? ' has' : 's have'} no counterfactual: ${unpaired.slice(0, 5).map((s) => JSON.stringify(s)).join(', ')}${unpaired.length > 5 ? ', ...' : ''}; every positive needs its own edit without the concept`,
      'counterfactuals',
      { unpaired: unpaired.slice(0, 100) },
    );
  if (input.distractorGroups.length === 0) throw badInput('Give at least one distractor group (images with a cue correlated with the concept, without the concept)', 'distractorGroups');
  requireUnique(input.distractorGroups.map((g, i) => requireName(g.cue, `distractorGroups[${i}].cue`)), 'distractorGroups.cue');
  input.distractorGroups.forEach((g, i) => {
    if (g.stimuli.length === 0) throw badInput(`Distractor group ${JSON.stringify(g.cue)} is empty`, `distractorGroups[${i}].stimuli`);
    if (g.stimuli.length < MIN_GROUP)
      throw badInput(`Distractor group ${JSON.stringify(g.cue)} has ${g.stimuli.length} images; each split half needs 2, so give at least ${MIN_GROUP}`, `distractorGroups[${i}].stimuli`);
  });
  if (input.baseline.length < MIN_GROUP) throw badInput(`The baseline has ${input.baseline.length} images; give at least ${MIN_GROUP} (other concepts' images)`, 'baseline');

  // One stimulus set in role order; a counterfactual takes the row order of its positive.
  const cfs = [...input.counterfactuals].sort((a, b) => positiveIndex.get(a.positive)! - positiveIndex.get(b.positive)!);
  const rows: { externalId: string; concepts: string[]; caption: string | null }[] = [
    ...input.positives.map((s) => ({ externalId: s.externalId.trim(), concepts: [concept], caption: s.caption ?? null })),
    ...cfs.map((s) => ({ externalId: s.externalId.trim(), concepts: [], caption: s.caption ?? null })),
  ];
  const groups = input.distractorGroups.map((g) => {
    const start = rows.length;
    rows.push(...g.stimuli.map((s) => ({ externalId: s.externalId.trim(), concepts: [], caption: s.caption ?? null })));
    return { cue: g.cue.trim(), positions: Array.from({ length: g.stimuli.length }, (_, i) => start + i) };
  });
  const baseStart = rows.length;
  rows.push(...input.baseline.map((s) => ({ externalId: s.externalId.trim(), concepts: [], caption: s.caption ?? null })));
  if (rows.length > MAX_IMAGES) throw badInput(`A concept query holds at most ${MAX_IMAGES} images (got ${rows.length})`, 'positives');
  rows.forEach((r, i) => requireName(r.externalId, `images[${i}].externalId`));
  requireUnique(rows.map((r) => r.externalId), 'externalId');
  const n = input.positives.length;

  return writing(`A concept query named ${JSON.stringify(name)} in this dataset`, () =>
    ctx.db.$transaction(
      async (tx) => {
        const set = await tx.stimulusSet.create({ data: { datasetId: dataset.id, name: `concept:${name}`, description: `Stimuli of the causal test of ${JSON.stringify(concept)}` } });
        for (let start = 0; start < rows.length; start += 5000)
          await tx.stimulus.createMany({ data: rows.slice(start, start + 5000).map((r, j) => ({ ...r, stimulusSetId: set.id, position: start + j })) });
        return tx.conceptQuery.create({
          data: {
            datasetId: dataset.id,
            stimulusSetId: set.id,
            name,
            concept,
            description: optionalDescription(input.description, 'description'),
            positivePositions: Array.from({ length: n }, (_, i) => i),
            counterfactualPositions: Array.from({ length: n }, (_, i) => n + i),
            baselinePositions: Array.from({ length: input.baseline.length }, (_, i) => baseStart + i),
            distractorGroups: { create: groups },
          },
        });
      },
      { timeout: 60_000 },
    ),
  );
}

export async function visibleConceptQuery(ctx: DomainContext, id: string): Promise<ConceptQuery> {
  const query = await ctx.db.conceptQuery.findUnique({ where: { id: requireUuid(id, 'conceptQueryId') }, include: { dataset: true } });
  visibleOrThrow(ctx.viewer, 'Concept query', id, query?.dataset);
  const { dataset: _dataset, ...row } = query!;
  return row;
}

export function conceptQueries(ctx: DomainContext, datasetId: string, concept?: string | null): Promise<ConceptQuery[]> {
  return ctx.db.conceptQuery.findMany({
    where: { datasetId: requireUuid(datasetId, 'datasetId'), ...(concept ? { concept } : {}), ...readableViaDataset(ctx.viewer) },
    orderBy: { createdAt: 'asc' },
  });
}

export interface CausalTestRequest {
  conceptQueryId: string;
  encoderRunId: string;
  subjectId?: string | null;
  fdrQ?: number | null;
  minEffect?: number | null;
  splitSeed?: number | null;
  heldOutFraction?: number | null;
  followUpPairs?: number | null;
  groundTruth?: { causalVoxels: number[]; nonCausalVoxels: number[] } | null;
  benchmarkId?: string | null;
  idempotencyKey?: string | null;
}

/** What a causal test reads from its encoder run's parameters (ridge and in-context runs both record them). */
const encoderFields = z.object({ featureSetId: z.string().optional(), responseSetId: z.string().optional(), featureNormalization: z.string().optional() });

export async function submitCausalTest(ctx: DomainContext, input: CausalTestRequest): Promise<Run> {
  const settings = parseParams(causalTestSettings, {
    ...(input.fdrQ != null ? { fdrQ: input.fdrQ } : {}),
    ...(input.minEffect != null ? { minEffect: input.minEffect } : {}),
    ...(input.heldOutFraction != null ? { heldOutFraction: input.heldOutFraction } : {}),
    ...(input.followUpPairs != null ? { followUpPairs: input.followUpPairs } : {}),
    ...(input.splitSeed != null ? { splitSeed: input.splitSeed } : {}),
  });
  const { heldOutFraction } = settings;

  const query = await visibleConceptQuery(ctx, input.conceptQueryId);
  // Each half needs 3 pairs and 2 images per group for its tests.
  const groups = await ctx.db.distractorGroup.findMany({ where: { conceptQueryId: query.id }, select: { cue: true, positions: true } });
  const sizes: [string, number, number][] = [
    ['pairs', query.positivePositions.length, 3],
    ['baseline images', query.baselinePositions.length, 2],
    ...groups.map((g): [string, number, number] => [`images of distractor group ${JSON.stringify(g.cue)}`, g.positions.length, 2]),
  ];
  for (const [what, n, min] of sizes) {
    const held = Math.round(n * heldOutFraction);
    if (held < min || n - held < min)
      throw badInput(`heldOutFraction ${heldOutFraction} splits the ${n} ${what} into ${n - held} and ${held}; each half needs at least ${min}`, 'heldOutFraction');
  }
  const encoder = await visibleRun(ctx, requireUuid(input.encoderRunId, 'encoderRunId'));
  if (encoder.kind !== 'ENCODING_RIDGE' && encoder.kind !== 'ENCODING_ICL')
    throw badInput(`Run ${encoder.id} is a ${encoder.kind} run; the encoder must be a finished ENCODING_RIDGE or ENCODING_ICL run`, 'encoderRunId');
  if (encoder.status !== 'SUCCEEDED') throw badInput(`Encoder run ${encoder.id} is ${encoder.status}; wait until it SUCCEEDED`, 'encoderRunId');
  const weightsId = (encoder.outputs as Record<string, string>)?.weights;
  const weights = weightsId ? await ctx.db.artifact.findUnique({ where: { id: weightsId } }) : null;
  if (!weights || weights.shape.length !== 2) throw badInput(`Encoder run ${encoder.id} has no per-voxel weights output`, 'encoderRunId');
  const [rows, nVoxels] = weights.shape;
  const encoderParams = encoderFields.safeParse(encoder.params).data ?? {};

  if (!encoder.subjectId) throw badInput(`Encoder run ${encoder.id} names no subject`, 'encoderRunId');
  if (input.subjectId && requireUuid(input.subjectId, 'subjectId') !== encoder.subjectId)
    throw badInput(`Encoder run ${encoder.id} was fit on another subject (${encoder.subjectId}), not ${input.subjectId}`, 'subjectId');
  const { subject, dataset } = await visibleSubject(ctx, encoder.subjectId);
  assertCanWrite(ctx.viewer, dataset.labId);
  if (nVoxels !== subject.nVoxels)
    throw badInput(`Encoder run ${encoder.id} predicts ${nVoxels} voxels but subject ${subject.name} has ${subject.nVoxels}`, 'encoderRunId');

  // The encoder reads features of one model (and layer): the query needs the same.
  const encoderFeatures = encoderParams.featureSetId ? await ctx.db.featureSet.findUnique({ where: { id: encoderParams.featureSetId }, include: { model: true } }) : null;
  const modelId = encoderFeatures?.modelId ?? encoder.modelId;
  if (!modelId) throw badInput(`Encoder run ${encoder.id} names no feature model`, 'encoderRunId');
  const features = await ctx.db.featureSet.findFirst({
    // Only features of a model the client may read (a public encoder run can name a private model).
    where: { modelId, stimulusSetId: query.stimulusSetId, status: 'READY', model: readableWhere(ctx.viewer), ...(encoderFeatures ? { layer: encoderFeatures.layer } : {}) },
    include: { model: true },
  });
  const modelName = encoderFeatures?.model.name ?? modelId;
  if (!features)
    throw badInput(`Concept query ${query.name} has no READY features of model ${modelName}${encoderFeatures?.layer ? ` (layer ${encoderFeatures.layer})` : ''}; import them for its stimulus set ${query.stimulusSetId}`, 'conceptQueryId');
  if (features.dim !== rows - 1)
    throw badInput(`Feature width mismatch: the encoder's weights take ${rows - 1} features, the query's ${features.model.name} features have ${features.dim}`, 'encoderRunId');

  let groundTruth: CausalTestParams['groundTruth'] = null;
  if (input.groundTruth) {
    for (const key of ['causalVoxels', 'nonCausalVoxels'] as const) {
      input.groundTruth[key].forEach((v, i) => {
        if (!Number.isInteger(v) || v < 0 || v >= nVoxels) throw badInput(`groundTruth.${key}[${i}] = ${v} is outside 0..${nVoxels - 1}`, `groundTruth.${key}[${i}]`);
      });
    }
    groundTruth = { causalVoxels: input.groundTruth.causalVoxels, nonCausalVoxels: input.groundTruth.nonCausalVoxels };
  }
  if (input.benchmarkId) {
    const bench = await visibleBenchmark(ctx, requireUuid(input.benchmarkId, 'benchmarkId'));
    if (!bench) throw badInput(`Benchmark ${input.benchmarkId} does not exist`, 'benchmarkId');
    if (bench.kind !== 'CAUSAL') throw badInput(`Benchmark ${bench.name} is a ${bench.kind} benchmark; causal tests go to CAUSAL benchmarks`, 'benchmarkId');
  }

  const { run } = await submitRun(ctx, causalTest, {
    labId: dataset.labId,
    benchmarkId: input.benchmarkId ?? null,
    modelId: features.modelId,
    subjectId: subject.id,
    inputs: { datasetIds: [dataset.id, query.datasetId], modelIds: [features.modelId, modelId], runIds: [encoder.id] },
    idempotencyKey: input.idempotencyKey,
    params: {
      ...settings,
      conceptQueryId: query.id,
      encoderRunId: encoder.id,
      featureSetId: features.id,
      weightsArtifactId: weights.id,
      subjectId: subject.id,
      responseSetId: encoderParams.responseSetId ?? null,
      unitNormFeatures: encoder.kind === 'ENCODING_ICL' || encoderParams.featureNormalization === 'unit-norm',
      groundTruth,
    } satisfies CausalTestParams,
  });
  return run;
}

export interface CausalTestResultModel extends CausalResultBody {
  run: Run;
  designFileId: string | null;
}

/** The stored result of a SUCCEEDED causal test, or null. */
export async function causalTestResult(ctx: DomainContext, runId: string): Promise<CausalTestResultModel | null> {
  const run = await visibleRun(ctx, runId);
  if (run.kind !== 'CAUSAL_TEST' || run.status !== 'SUCCEEDED') return null;
  const outputs = run.outputs as Record<string, string>;
  const artifact = outputs.result ? await ctx.db.artifact.findUnique({ where: { id: outputs.result } }) : null;
  if (!artifact) return null;
  const body = JSON.parse((await readPrefix(await ctx.services.store.get(artifact.sha256), MAX_RESULT_BYTES)).toString('utf8')) as CausalResultBody;
  return { ...body, run, designFileId: outputs.designFile ?? null };
}
