// NSD-VQA rules: importing a benchmark file (all-or-nothing, every bad line reported) and
// submitting a decoder's answers for scoring (VQA_EVAL). The file checks are the pure functions
// in src/compute/vqa, shared with the worker.
import { badInput, conflict, DomainError } from '../errors';
import type { Artifact, VqaQuestion, Stimulus } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { plainLookups, type Lookups } from './lookups';
import { checkBenchmarkFile, describeErrors, detectFormat, type LineError, type TextFormat } from '../compute/vqa';
import { readPrefix } from '../storage';
import { assertCanWrite, targetLab } from './access';
import { inputArtifact } from './artifacts';
import { visibleModel, visibleStimulusSet, visibleSubject, writing } from './catalog';
import { visibleBenchmark } from './benchmarks';
import { checkBootstrapBudget } from './run-budget';
import { parseParams, submitRun } from './runs';
import { DEFAULT_SCORING_MODE, vqaEval } from '../jobs/vqa-eval';
import { optionalDescription, requireName, requireUuid } from './validate';

/** Benchmark and answer files are parsed whole in memory; this keeps that bounded. */
export const MAX_VQA_FILE_BYTES = 50 * 1024 * 1024;
/** The metric every VQA_EVAL run stores and VQA leaderboards rank by. */
export const VQA_METRIC = 'vqa_accuracy';
/** Line errors carried in a GraphQL error's extensions (the count is always complete). */
const MAX_REPORTED_ERRORS = 1000;
const INSERT_BATCH = 5000;

export type VqaFileFormatInput = 'JSONL' | 'CSV';

export interface VqaBenchmarkInfoModel {
  benchmarkId: string;
  stimulusSetId: string;
  artifactId: string;
  nQuestions: number;
  nImages: number;
  categories: { name: string; nQuestions: number; answerTypes: string[] }[];
}

export type VqaQuestionModel = VqaQuestion & { stimulus: Stimulus };

async function loadArtifact(ctx: DomainContext, id: string, field: string): Promise<Artifact> {
  const artifact = await inputArtifact(ctx, id, field);
  if (Number(artifact.size) > MAX_VQA_FILE_BYTES)
    throw new DomainError('PAYLOAD_TOO_LARGE', `${artifact.filename || 'The file'} is ${artifact.size} bytes; VQA files may be at most ${MAX_VQA_FILE_BYTES} bytes (50 MiB)`, {
      field,
      limit: MAX_VQA_FILE_BYTES,
    });
  return artifact;
}

export function fileFormat(artifact: Artifact, bytes: Uint8Array, given?: VqaFileFormatInput | null): TextFormat {
  return given ? (given.toLowerCase() as TextFormat) : detectFormat(artifact.filename, bytes);
}

/** The whole file, streamed from the store; the size was checked against the cap already. */
async function readArtifact(ctx: DomainContext, artifact: Artifact): Promise<Buffer> {
  return readPrefix(await ctx.services.store.get(artifact.sha256), MAX_VQA_FILE_BYTES + 1);
}

function lineErrors(what: string, errors: LineError[], field: string) {
  return badInput(`${what} has ${errors.length} problem${errors.length === 1 ? '' : 's'}; nothing was imported: ${describeErrors(errors)}`, field, {
    errors: errors.slice(0, MAX_REPORTED_ERRORS),
    errorCount: errors.length,
  });
}

export async function importVqaBenchmark(
  ctx: DomainContext,
  input: { name?: string | null; benchmarkId?: string | null; description?: string | null; stimulusSetId: string; artifactId: string; format?: VqaFileFormatInput | null },
) {
  targetLab(ctx.viewer);
  if (!input.name === !input.benchmarkId) throw badInput('Give either name (a new VQA benchmark) or benchmarkId (an existing one without questions)', 'name');
  const { stimulusSet } = await visibleStimulusSet(ctx, input.stimulusSetId);
  const existing = input.benchmarkId
    ? await ctx.db.benchmark.findUnique({ where: { id: requireUuid(input.benchmarkId, 'benchmarkId') }, include: { vqaSource: true } })
    : null;
  if (input.benchmarkId) {
    if (!existing || !(await visibleBenchmark(ctx, existing.id))) throw badInput(`Benchmark ${input.benchmarkId} does not exist`, 'benchmarkId');
    if (existing.kind !== 'VQA') throw badInput(`Benchmark ${existing.name} is a ${existing.kind} benchmark; questions go to VQA benchmarks`, 'benchmarkId');
    if (existing.metric !== VQA_METRIC) throw badInput(`VQA benchmarks rank by ${VQA_METRIC}; ${existing.name} ranks by ${existing.metric}`, 'benchmarkId');
    if (existing.vqaSource) throw conflict(`Benchmark ${existing.name} already holds ${existing.vqaSource.nQuestions} questions; import into a new benchmark`);
  }
  const name = input.name ? requireName(input.name, 'name') : existing!.name;
  const artifact = await loadArtifact(ctx, input.artifactId, 'artifactId');
  const bytes = await readArtifact(ctx, artifact);
  const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId: stimulusSet.id }, select: { id: true, externalId: true } });
  const stimulusIds = new Map(stimuli.map((s) => [s.externalId, s.id]));
  const { questions, errors } = checkBenchmarkFile(bytes, fileFormat(artifact, bytes, input.format), new Set(stimulusIds.keys()));
  if (errors.length) throw lineErrors(artifact.filename || 'The benchmark file', errors, 'artifactId');

  // One transaction: the benchmark, its source and every question, or nothing.
  return writing(`A benchmark named ${JSON.stringify(name)}`, () =>
    ctx.db.$transaction(
      async (tx) => {
        const benchmark =
          existing ??
          (await tx.benchmark.create({
            data: { name, kind: 'VQA', metric: VQA_METRIC, higherIsBetter: true, description: optionalDescription(input.description, 'description'), datasetId: stimulusSet.datasetId },
          }));
        await tx.vqaSource.create({
          data: { benchmarkId: benchmark.id, artifactId: artifact.id, sha256: artifact.sha256, stimulusSetId: stimulusSet.id, nQuestions: questions.length },
        });
        for (let i = 0; i < questions.length; i += INSERT_BATCH) {
          await tx.vqaQuestion.createMany({
            data: questions.slice(i, i + INSERT_BATCH).map(({ stimulusId, ...q }) => ({ ...q, benchmarkId: benchmark.id, stimulusId: stimulusIds.get(stimulusId)! })),
          });
        }
        return benchmark;
      },
      { timeout: 120_000 },
    ),
  );
}

export async function submitVqaEval(
  ctx: DomainContext,
  input: {
    benchmarkId: string;
    modelId: string;
    subjectId: string;
    artifactId: string;
    format?: VqaFileFormatInput | null;
    bootstrapSamples?: number | null;
    scoringMode?: 'official' | 'normalized' | null;
    idempotencyKey?: string | null;
  },
) {
  const benchmark = await ctx.db.benchmark.findUnique({ where: { id: requireUuid(input.benchmarkId, 'benchmarkId') }, include: { vqaSource: true } });
  if (!benchmark || !(await visibleBenchmark(ctx, benchmark.id))) throw badInput(`Benchmark ${input.benchmarkId} does not exist`, 'benchmarkId');
  if (benchmark.kind !== 'VQA') throw badInput(`Benchmark ${benchmark.name} is a ${benchmark.kind} benchmark, not VQA`, 'benchmarkId');
  if (!benchmark.vqaSource) throw badInput(`Benchmark ${benchmark.name} has no questions yet; import them with importVqaBenchmark`, 'benchmarkId');
  const model = await visibleModel(ctx, input.modelId);
  if (model.kind !== 'DECODER') throw badInput(`Model ${model.name} is a ${model.kind}; VQA answers come from a DECODER model`, 'modelId');
  const { subject, dataset } = await visibleSubject(ctx, input.subjectId);
  assertCanWrite(ctx.viewer, dataset.labId);
  const set = await plainLookups(ctx).stimulusSet.load(benchmark.vqaSource.stimulusSetId);
  if (set && set.datasetId !== subject.datasetId)
    throw badInput(`Subject ${subject.name} belongs to another dataset than the benchmark's images`, 'subjectId');
  const artifact = await loadArtifact(ctx, input.artifactId, 'artifactId');
  const params = parseParams(vqaEval, {
    benchmarkId: benchmark.id,
    artifactId: artifact.id,
    format: input.format?.toLowerCase() ?? null,
    ...(input.bootstrapSamples != null ? { bootstrapSamples: input.bootstrapSamples } : {}),
    scoringMode: input.scoringMode ?? DEFAULT_SCORING_MODE,
    seed: 0,
  });
  // Each resample draws the benchmark's images (at most one per question) and scores every category.
  const nImages = benchmark.vqaSource.nQuestions;
  checkBootstrapBudget(ctx, { bootstrapSamples: params.bootstrapSamples, perSample: 4 * nImages + 8 * 64, shape: `${nImages} questions' images` });

  const { run } = await submitRun(ctx, vqaEval, {
    labId: dataset.labId,
    benchmarkId: benchmark.id,
    modelId: model.id,
    subjectId: subject.id,
    inputs: { datasetIds: [dataset.id], modelIds: [model.id], runIds: [] },
    idempotencyKey: input.idempotencyKey,
    params,
  });
  return run;
}

export async function vqaInfo(ctx: DomainContext, benchmarkId: string): Promise<VqaBenchmarkInfoModel | null> {
  const source = await ctx.db.vqaSource.findUnique({ where: { benchmarkId } });
  if (!source) return null;
  const [groups, images] = await Promise.all([
    ctx.db.vqaQuestion.groupBy({ by: ['category', 'answerType'], where: { benchmarkId }, _count: { _all: true } }),
    ctx.db.vqaQuestion.findMany({ where: { benchmarkId }, distinct: ['stimulusId'], select: { stimulusId: true } }),
  ]);
  const categories = new Map<string, { name: string; nQuestions: number; answerTypes: string[] }>();
  for (const g of groups) {
    const c = categories.get(g.category) ?? { name: g.category, nQuestions: 0, answerTypes: [] };
    c.nQuestions += g._count._all;
    c.answerTypes.push(g.answerType);
    categories.set(g.category, c);
  }
  return {
    benchmarkId,
    stimulusSetId: source.stimulusSetId,
    artifactId: source.artifactId,
    nQuestions: source.nQuestions,
    nImages: images.length,
    categories: [...categories.values()].sort((a, b) => a.name.localeCompare(b.name)).map((c) => ({ ...c, answerTypes: c.answerTypes.sort() })),
  };
}

export async function vqaQuestions(
  ctx: DomainContext,
  benchmarkId: string,
  args: { category?: string | null; first?: number | null },
  lookups: Lookups = plainLookups(ctx),
): Promise<VqaQuestionModel[]> {
  const first = args.first ?? 100;
  if (!Number.isInteger(first) || first < 0 || first > 1000) throw badInput('first must be an integer between 0 and 1000', 'first');
  // Questions name the images of a stimulus set; they are listed to those who may read its dataset.
  const source = await ctx.db.vqaSource.findUnique({ where: { benchmarkId } });
  if (!source || !(await lookups.stimulusSet.load(source.stimulusSetId))) return [];
  return ctx.db.vqaQuestion.findMany({
    where: { benchmarkId, ...(args.category ? { category: args.category } : {}) },
    include: { stimulus: true },
    orderBy: { line: 'asc' },
    take: first,
  });
}
