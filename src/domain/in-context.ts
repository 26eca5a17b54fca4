// In-context encoders: the contract check when one is registered, the checks of an ENCODING_ICL
// request before anything is queued, and the test-time-scaling curves a finished run offers.
import { sharedEngine } from '../compute/engine-instance';
import { CONTRACT_SIGNATURE, ContractError, readContract, type EncoderContract } from '../compute/icl/contract';
import { dryRun, loadEncoder } from '../compute/icl/encoder';
import { readEncoderBytes } from '../jobs/io/encoder-bytes';
import { encodingIcl } from '../jobs/encoding-icl';
import { badInput } from '../errors';
import type { Artifact, Roi, Run } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { plainLookups, type Lookups } from './lookups';
import { visibleOrThrow } from './access';
import { encodingInputs } from './encoding';
import { parseParams, submitRun } from './runs';
import { requireUuid } from './validate';

/** BraInCoRL's test-time-scaling grid; values above what the data or model allow are dropped. */
export const DEFAULT_KS = [10, 25, 50, 100, 200, 500];
const MIN_K = 3;
const MAX_KS = 20;

/** Contracts read at registration or submission, by model sha256 (the bytes never change). */
const contracts = new Map<string, EncoderContract>();

async function encoderContract(ctx: DomainContext, artifact: Artifact, field: string): Promise<EncoderContract> {
  const cached = contracts.get(artifact.sha256);
  if (cached) return cached;
  try {
    const contract = readContract(await readEncoderBytes(ctx.services.store, artifact.sha256));
    contracts.set(artifact.sha256, contract);
    return contract;
  } catch (err) {
    if (err instanceof ContractError) throw badInput(err.message, field, { expected: CONTRACT_SIGNATURE });
    throw err;
  }
}

/**
 * Registration of an IN_CONTEXT_ENCODER: loads the ONNX file with ONNX Runtime, checks its
 * signature against the contract, dry-runs it on random inputs, and checks E against the declared
 * feature width and the backbone's. Returns E.
 */
export async function checkInContextEncoder(
  ctx: DomainContext,
  input: { artifactId?: string | null; featureWidth?: number | null; backboneId?: string | null },
): Promise<number> {
  if (!input.artifactId) throw badInput('An in-context encoder is registered with its ONNX file: upload it and pass artifactId', 'artifactId');
  const artifact = await plainLookups(ctx).artifact.load(requireUuid(input.artifactId, 'artifactId'));
  if (!artifact) throw badInput(`Artifact ${input.artifactId} does not exist`, 'artifactId');
  let contract: EncoderContract;
  try {
    const encoder = loadEncoder(await readEncoderBytes(ctx.services.store, artifact.sha256), artifact.sha256);
    await dryRun(await sharedEngine(), encoder);
    contract = encoder;
  } catch (err) {
    if (err instanceof ContractError) throw badInput(`${artifact.filename || 'The artifact'}: ${err.message}`, err.field, { expected: CONTRACT_SIGNATURE });
    throw err;
  }
  const E = contract.featureWidth;
  if (input.featureWidth != null && input.featureWidth !== E)
    throw badInput(`featureWidth is ${input.featureWidth} but the model reads features of width E = ${E} (ic_img [B, S, ${E}])`, 'featureWidth', { expected: E });
  if (input.backboneId) {
    const backbone = await plainLookups(ctx).model.load(requireUuid(input.backboneId, 'backboneId'));
    if (backbone?.featureWidth != null && backbone.featureWidth !== E)
      throw badInput(`The backbone ${backbone.name} gives features of width ${backbone.featureWidth} but the encoder reads E = ${E}`, 'backboneId', { expected: E });
  }
  contracts.set(artifact.sha256, { variant: contract.variant, featureWidth: E, maxContext: contract.maxContext, architecture: contract.architecture, hasPred: contract.hasPred, signature: contract.signature });
  return E;
}

export interface EncodingIclRequest {
  featureSetId: string;
  responseSetId: string;
  modelId: string;
  ks?: number[] | null;
  repeats?: number | null;
  seed?: number | null;
  batchVoxels?: number | null;
  testStimulusIds?: string[] | null;
  compareRidge?: boolean | null;
  benchmarkId?: string | null;
  idempotencyKey?: string | null;
}

export async function submitEncodingIcl(ctx: DomainContext, input: EncodingIclRequest) {
  const { featureSet, responseSet, dataset, test, nStimuli, nTrain } = await encodingInputs(ctx, input);
  const model = visibleOrThrow(ctx.viewer, 'Model', input.modelId, await plainLookups(ctx).model.load(requireUuid(input.modelId, 'modelId')));
  if (model.kind !== 'IN_CONTEXT_ENCODER')
    throw badInput(`Model ${model.name} is a ${model.kind}; ENCODING_ICL needs an IN_CONTEXT_ENCODER (registerModel with kind IN_CONTEXT_ENCODER and its ONNX artifactId)`, 'modelId');
  const artifact = model.artifactId ? await plainLookups(ctx).artifact.load(model.artifactId) : null;
  if (!artifact) throw badInput(`In-context encoder ${model.name} has no ONNX file`, 'modelId');
  const contract = await encoderContract(ctx, artifact, 'modelId');
  const E = contract.featureWidth;
  if (featureSet.dim !== E)
    throw badInput(`The features of ${featureSet.model.name} are ${featureSet.dim} wide but the encoder ${model.name} reads E = ${E}; use features of its backbone`, 'featureSetId', { expected: E });
  const ks = checkKs(input.ks, { nStimuli, nTrain, maxContext: contract.maxContext, modelName: model.name });

  const params = parseParams(encodingIcl, {
    featureSetId: featureSet.id,
    responseSetId: responseSet.id,
    modelId: model.id,
    testStimulusIds: [...test].sort(),
    ks,
    ...(input.repeats != null ? { repeats: input.repeats } : {}),
    ...(input.seed != null ? { seed: input.seed } : {}),
    ...(input.batchVoxels != null ? { batchVoxels: input.batchVoxels } : {}),
    ...(input.compareRidge != null ? { compareRidge: input.compareRidge } : {}),
  });
  const { run } = await submitRun(ctx, encodingIcl, {
    labId: dataset.labId,
    benchmarkId: input.benchmarkId ?? null,
    modelId: model.id,
    subjectId: responseSet.subjectId,
    inputs: { datasetIds: [dataset.id], modelIds: [featureSet.modelId, model.id], runIds: [] },
    idempotencyKey: input.idempotencyKey,
    params,
  });
  return run;
}

/** Context sizes: each checked against the response set, the training stimuli and the model. */
function checkKs(given: number[] | null | undefined, limits: { nStimuli: number; nTrain: number; maxContext: number | null; modelName: string }): number[] {
  const bound = Math.min(limits.nTrain, limits.maxContext ?? Infinity);
  if (!given) {
    // The default grid stops where the data or the model stop.
    const ks = DEFAULT_KS.filter((k) => k <= bound);
    if (ks.length === 0) throw badInput(`Only ${bound} context images are possible (training stimuli, model limit); pass ks no larger than that`, 'ks');
    return ks;
  }
  if (given.length === 0 || given.length > MAX_KS) throw badInput(`Give between 1 and ${MAX_KS} context sizes`, 'ks');
  given.forEach((k, i) => {
    const field = `ks[${i}]`;
    if (!Number.isInteger(k) || k < MIN_K) throw badInput(`${field} = ${k}; context sizes are integers of at least ${MIN_K} images`, field);
    if (k > limits.nStimuli)
      throw badInput(`${field} = ${k}: a context of ${k} images is larger than the response set, which has ${limits.nStimuli} stimuli`, field);
    if (k > limits.nTrain)
      throw badInput(`${field} = ${k} exceeds the ${limits.nTrain} training stimuli available (the other ${limits.nStimuli - limits.nTrain} are held out for testing)`, field);
    if (limits.maxContext !== null && k > limits.maxContext)
      throw badInput(`${field} = ${k} exceeds the largest context ${limits.modelName} accepts (brainalign.max_context = ${limits.maxContext})`, field);
  });
  if (new Set(given).size !== given.length) throw badInput('ks contains the same context size twice', 'ks');
  return [...given].sort((a, b) => a - b);
}

export type InContextMethod = 'IN_CONTEXT' | 'RIDGE';

export interface TestTimeScalingModel {
  metric: string;
  ks: number[];
  repeats: number;
  interval: string;
  curves: {
    method: InContextMethod;
    scope: string;
    roi: Roi | null;
    points: { k: number; mean: number; ciLow: number | null; ciHigh: number | null; values: number[] }[];
  }[];
}

const METRIC_NAME = /^(in_context|ridge)\.(.+)\.mean@k(\d+)$/;

/** The curves of a finished ENCODING_ICL run, rebuilt from its scores (one per k, method, scope). */
export async function testTimeScaling(ctx: DomainContext, run: Run, metric: string, roi?: string | null, lookups: Lookups = plainLookups(ctx)): Promise<TestTimeScalingModel | null> {
  if (run.kind !== 'ENCODING_ICL' || run.status !== 'SUCCEEDED') return null;
  const scores = await ctx.db.score.findMany({
    where: { runId: run.id, OR: [{ metric: { startsWith: `in_context.${metric}.mean@k` } }, { metric: { startsWith: `ridge.${metric}.mean@k` } }], ...(roi ? { scope: `roi:${roi}` } : {}) },
  });
  const curves = new Map<string, TestTimeScalingModel['curves'][number]>();
  for (const s of scores) {
    const m = METRIC_NAME.exec(s.metric);
    if (!m || m[2] !== metric) continue;
    const method: InContextMethod = m[1] === 'ridge' ? 'RIDGE' : 'IN_CONTEXT';
    const key = `${method}|${s.scope}`;
    let curve = curves.get(key);
    if (!curve) {
      curve = { method, scope: s.scope, roi: s.roiId ? await lookups.roi.load(s.roiId) : null, points: [] };
      curves.set(key, curve);
    }
    const values = ((s.extra as { values?: number[] }).values ?? []).map(Number);
    curve.points.push({ k: Number(m[3]), mean: s.value, ciLow: s.ciLow, ciHigh: s.ciHigh, values });
  }
  for (const c of curves.values()) c.points.sort((a, b) => a.k - b.k);
  const ordered = [...curves.values()].sort((a, b) => (a.scope === b.scope ? a.method.localeCompare(b.method) : a.scope === 'all' ? -1 : b.scope === 'all' ? 1 : a.scope.localeCompare(b.scope)));
  const p = encodingIcl.params.safeParse(run.params);
  return {
    metric,
    ks: p.success ? p.data.ks : [],
    repeats: p.success ? p.data.repeats : 0,
    interval: 'Student-t 95% interval over repeats of the voxel-mean score',
    curves: ordered,
  };
}
