// Checks an encoding request against the catalog before anything is queued, and resolves the
// train/test split so the worker receives exactly what it will use.
import { badInput } from '../errors';
import type { Context } from '../resolvers/context';
import { assertCanWrite, visibleOrThrow } from './access';
import { checkBootstrapBudget, ridgeBootstrapBytesPerSample } from './run-budget';
import { visibleBenchmark } from './benchmarks';
import { submitRun } from './runs';
import { requireUuid } from './validate';

/** 10^-3 ... 10^5, one per decade (BraInCoRL's baseline range). */
export const DEFAULT_ALPHAS = Array.from({ length: 9 }, (_, i) => 10 ** (i - 3));
const MAX_ALPHAS = 100;
/** Validation scores a voxel's alpha may be chosen by; the first is himalaya RidgeCV's default. */
export const RIDGE_SELECTION_SCORES = ['l2_neg_loss', 'r2', 'correlation'] as const;
export type RidgeSelectionScore = (typeof RIDGE_SELECTION_SCORES)[number];

export interface EncodingRidgeRequest {
  featureSetId: string;
  responseSetId: string;
  testStimulusIds?: string[] | null;
  alphas?: number[] | null;
  folds?: number | null;
  selectionScore?: RidgeSelectionScore | null;
  bootstrapSamples?: number | null;
  ceiling?: 'ncsnr' | 'splitHalf' | null;
  voxelBatch?: number | null;
  benchmarkId?: string | null;
  idempotencyKey?: string | null;
}

/** Largest voxel batch a run may ask for (memory is O(n_stimuli x voxelBatch) per fold). */
export const MAX_VOXEL_BATCH = 65536;

export async function submitEncodingRidge(ctx: Context, input: EncodingRidgeRequest) {
  const { featureSet, responseSet, dataset, test, nTrain } = await encodingInputs(ctx, input);
  const alphas = input.alphas ?? DEFAULT_ALPHAS;
  if (alphas.length === 0 || alphas.length > MAX_ALPHAS) throw badInput(`Give between 1 and ${MAX_ALPHAS} alphas`, 'alphas');
  alphas.forEach((a, i) => {
    if (!(Number.isFinite(a) && a > 0)) throw badInput(`alphas[${i}] = ${a}; ridge penalties must be finite and > 0`, `alphas[${i}]`);
  });
  const folds = input.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2 || folds > 50) throw badInput(`folds must be an integer from 2 to 50 (got ${folds})`, 'folds');
  const selectionScore = input.selectionScore ?? 'l2_neg_loss';
  if (!RIDGE_SELECTION_SCORES.includes(selectionScore))
    throw badInput(`selectionScore must be one of ${RIDGE_SELECTION_SCORES.join(', ')} (got ${selectionScore})`, 'selectionScore');
  const bootstrapSamples = input.bootstrapSamples ?? 1000;
  if (!Number.isInteger(bootstrapSamples) || bootstrapSamples < 0 || bootstrapSamples > 100_000)
    throw badInput('bootstrapSamples must be an integer from 0 to 100000', 'bootstrapSamples');
  if (input.ceiling === 'splitHalf' && !responseSet.splitHalfArtifactId)
    throw badInput(`Response set ${responseSet.name} has no split-half reliability (it needs repeats); use ceiling: ncsnr or re-import it with repeats`, 'ceiling');
  if (nTrain < 2 * folds)
    throw badInput(`${nTrain} training stimuli are too few for ${folds} folds (at least ${2 * folds} needed)`, 'folds');
  const nVoxels = responseSet.subject.nVoxels;
  checkBootstrapBudget(ctx, { bootstrapSamples, perSample: ridgeBootstrapBytesPerSample(test.size, nVoxels), shape: `${test.size} test stimuli x ${nVoxels} voxels` });
  const voxelBatch = input.voxelBatch ?? null;
  if (voxelBatch !== null && !(Number.isInteger(voxelBatch) && voxelBatch >= 1 && voxelBatch <= MAX_VOXEL_BATCH))
    throw badInput(`voxelBatch must be an integer from 1 to ${MAX_VOXEL_BATCH} (got ${voxelBatch})`, 'voxelBatch');

  const { run } = await submitRun(ctx, {
    labId: dataset.labId,
    kind: 'ENCODING_RIDGE',
    benchmarkId: input.benchmarkId ?? null,
    modelId: featureSet.modelId,
    subjectId: responseSet.subjectId,
    inputs: { datasetIds: [dataset.id], modelIds: [featureSet.modelId], runIds: [] },
    idempotencyKey: input.idempotencyKey,
    params: {
      featureSetId: featureSet.id,
      responseSetId: responseSet.id,
      testStimulusIds: [...test].sort(),
      alphas,
      folds,
      selectionScore,
      bootstrapSamples,
      seed: 0,
      // Only when asked: runs with the default keep the parameters they always had.
      ...(input.ceiling === 'splitHalf' ? { ceiling: 'splitHalf' } : {}),
      // Only when asked for: runs without it choose the batch from the shapes.
      ...(voxelBatch !== null ? { voxelBatch } : {}),
    },
  });
  return run;
}

/**
 * What every encoding run checks before it is queued: a READY feature set and response set over
 * the same stimuli, readable by the client and writable in the dataset's lab, a test split of
 * known stimuli (default: those all subjects share), and an optional benchmark that exists.
 */
export async function encodingInputs(
  ctx: Context,
  input: { featureSetId: string; responseSetId: string; testStimulusIds?: string[] | null; benchmarkId?: string | null },
) {
  const featureSet = await ctx.db.featureSet.findUnique({ where: { id: requireUuid(input.featureSetId, 'featureSetId') }, include: { model: true } });
  visibleOrThrow(ctx.viewer, 'Feature set', input.featureSetId, featureSet?.model);
  const responseSet = await ctx.db.responseSet.findUnique({
    where: { id: requireUuid(input.responseSetId, 'responseSetId') },
    include: { subject: { include: { dataset: true } } },
  });
  const dataset = visibleOrThrow(ctx.viewer, 'Response set', input.responseSetId, responseSet?.subject.dataset);
  assertCanWrite(ctx.viewer, dataset.labId);
  if (featureSet!.status !== 'READY') throw badInput(`Feature set ${featureSet!.id} is ${featureSet!.status}; import it before fitting`, 'featureSetId');
  if (responseSet!.status !== 'READY') throw badInput(`Response set ${responseSet!.id} is ${responseSet!.status}; import it before fitting`, 'responseSetId');
  if (featureSet!.stimulusSetId !== responseSet!.stimulusSetId)
    throw badInput('The feature set and the response set cover different stimulus sets; features must exist for the stimuli the subject saw', 'featureSetId');

  const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId: responseSet!.stimulusSetId }, select: { externalId: true }, orderBy: { position: 'asc' } });
  const all = new Set(stimuli.map((s) => s.externalId));
  const testIds = input.testStimulusIds ?? (await sharedStimuli(ctx, dataset.id));
  const unknown = testIds.filter((id) => !all.has(id));
  if (unknown.length)
    throw badInput(`${unknown.length} test stimuli are not in the stimulus set: ${unknown.slice(0, 5).map((s) => JSON.stringify(s)).join(', ')}${unknown.length > 5 ? ', ...' : ''}`, 'testStimulusIds');
  const test = new Set(testIds);
  if (test.size < 3) throw badInput(`The test set has ${test.size} stimuli; at least 3 are needed to score`, 'testStimulusIds');
  if (input.benchmarkId) {
    const bench = await visibleBenchmark(ctx, requireUuid(input.benchmarkId, 'benchmarkId'));
    if (!bench) throw badInput(`Benchmark ${input.benchmarkId} does not exist`, 'benchmarkId');
  }
  return { featureSet: featureSet!, responseSet: responseSet!, dataset, test, nStimuli: all.size, nTrain: all.size - test.size };
}

/**
 * The stimuli every subject of the dataset has READY responses for (NSD's shared images).
 * With a single subject nothing is "shared", so the caller must name the test stimuli.
 */
export async function sharedStimuli(ctx: Context, datasetId: string): Promise<string[]> {
  const sets = await ctx.db.responseSet.findMany({
    where: { status: 'READY', subject: { datasetId } },
    select: { subjectId: true, stimulusSetId: true },
  });
  const subjects = new Map<string, Set<string>>();
  for (const s of sets) subjects.set(s.subjectId, (subjects.get(s.subjectId) ?? new Set()).add(s.stimulusSetId));
  if (subjects.size < 2)
    throw badInput('Only one subject has responses, so no stimuli are shared across subjects: pass testStimulusIds', 'testStimulusIds');
  let shared: Set<string> | undefined;
  for (const [, setIds] of subjects) {
    const rows = await ctx.db.stimulus.findMany({ where: { stimulusSetId: { in: [...setIds] } }, select: { externalId: true } });
    const ids = new Set(rows.map((r) => r.externalId));
    shared = shared ? new Set([...shared].filter((id) => ids.has(id))) : ids;
  }
  return [...(shared ?? [])];
}
