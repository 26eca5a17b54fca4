// Checks an encoding request against the catalog before anything is queued, and resolves the
// train/test split so the worker receives exactly what it will use.
import { badInput } from '../errors';
import type { DomainContext } from './context';
import { assertCanWrite, visibleOrThrow } from './access';
import { checkBootstrapBudget, ridgeBootstrapBytesPerSample } from './run-budget';
import { visibleBenchmark } from './benchmarks';
import { parseParams, submitRun } from './runs';
import { DEFAULT_SELECTION_SCORE, encodingRidge, type RidgeSelectionScore } from '../jobs/encoding-ridge';

export { DEFAULT_ALPHAS } from '../jobs/encoding-ridge';
import { requireUuid } from './validate';

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

export async function submitEncodingRidge(ctx: DomainContext, input: EncodingRidgeRequest) {
  const { featureSet, responseSet, dataset, test, nTrain } = await encodingInputs(ctx, input);
  const params = parseParams(encodingRidge, {
    featureSetId: featureSet.id,
    responseSetId: responseSet.id,
    testStimulusIds: [...test].sort(),
    ...(input.alphas != null ? { alphas: input.alphas } : {}),
    ...(input.folds != null ? { folds: input.folds } : {}),
    selectionScore: input.selectionScore ?? DEFAULT_SELECTION_SCORE,
    ...(input.bootstrapSamples != null ? { bootstrapSamples: input.bootstrapSamples } : {}),
    seed: 0,
    // Only when asked: runs with the default keep the parameters they always had.
    ...(input.ceiling === 'splitHalf' ? { ceiling: 'splitHalf' } : {}),
    // Only when asked for: runs without it choose the batch from the shapes.
    ...(input.voxelBatch != null ? { voxelBatch: input.voxelBatch } : {}),
  });
  if (params.ceiling === 'splitHalf' && !responseSet.splitHalfArtifactId)
    throw badInput(`Response set ${responseSet.name} has no split-half reliability (it needs repeats); use ceiling: ncsnr or re-import it with repeats`, 'ceiling');
  if (nTrain < 2 * params.folds)
    throw badInput(`${nTrain} training stimuli are too few for ${params.folds} folds (at least ${2 * params.folds} needed)`, 'folds');
  const nVoxels = responseSet.subject.nVoxels;
  checkBootstrapBudget(ctx, { bootstrapSamples: params.bootstrapSamples, perSample: ridgeBootstrapBytesPerSample(test.size, nVoxels), shape: `${test.size} test stimuli x ${nVoxels} voxels` });

  const { run } = await submitRun(ctx, encodingRidge, {
    labId: dataset.labId,
    benchmarkId: input.benchmarkId ?? null,
    modelId: featureSet.modelId,
    subjectId: responseSet.subjectId,
    inputs: { datasetIds: [dataset.id], modelIds: [featureSet.modelId], runIds: [] },
    idempotencyKey: input.idempotencyKey,
    params,
  });
  return run;
}

/**
 * What every encoding run checks before it is queued: a READY feature set and response set over
 * the same stimuli, readable by the client and writable in the dataset's lab, a test split of
 * known stimuli (default: those all subjects share), and an optional benchmark that exists.
 */
export async function encodingInputs(
  ctx: DomainContext,
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
export async function sharedStimuli(ctx: DomainContext, datasetId: string): Promise<string[]> {
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
