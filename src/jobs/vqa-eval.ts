// VQA_EVAL: score one subject's decoder answers on a VQA benchmark (NSD-VQA). Answers are
// checked against the benchmark's question ids (unknown or duplicate ids fail the run with line
// numbers), scored with the official VQA normalisation, and summarised per category, overall and
// per ROI with bootstrap CIs over images and chance/prior baselines (src/compute/vqa).
import { z } from 'zod';
import { RunInputError, type JobResult, type ScoreRecord } from '../runs/types';
import { defineJob, type JobContext } from './define';
import { readPrefix } from '../storage';
import { checkAnswersFile, describeErrors, detectFormat, scorable, VqaScorer, type AnswerSetScore, type Summary, type TextFormat } from '../compute/vqa';
import { storeOutput } from './io/outputs';

const MAX_FILE_BYTES = 50 * 1024 * 1024;
const METRIC = 'vqa_accuracy';
/** Missing questions listed in provenance; the perQuestion output lists all of them. */
const MISSING_IN_PROVENANCE = 50;

const bootstrapMessage = 'bootstrapSamples must be an integer from 0 to 100000';
export const VQA_SCORING_MODES = ['official', 'normalized'] as const;
/** What a new submission scores by when it names no mode (stored runs without one were normalized). */
export const DEFAULT_SCORING_MODE: (typeof VQA_SCORING_MODES)[number] = 'official';

/** As recorded on the run. */
export const vqaEvalParams = z.object({
  benchmarkId: z.string(),
  /** The decoder's answers file. */
  artifactId: z.string(),
  /** null: told from the file's name and first bytes. */
  format: z.enum(['jsonl', 'csv'] satisfies TextFormat[]).nullable().default(null),
  bootstrapSamples: z.number().int({ error: bootstrapMessage }).min(0, { error: bootstrapMessage }).max(100_000, { error: bootstrapMessage }).default(1000),
  seed: z.number().int().default(0),
  // Runs queued before the parameter existed were scored with every answer normalised.
  scoringMode: z.enum(VQA_SCORING_MODES, { error: (iss) => `scoringMode must be official or normalized (got ${iss.input})` }).default('normalized'),
});
export type VqaEvalParams = z.output<typeof vqaEvalParams>;

export const vqaEval = defineJob({
  kind: 'VQA_EVAL',
  params: vqaEvalParams,
  handle: scoreVqaAnswers,
});

async function scoreVqaAnswers(ctx: JobContext<VqaEvalParams>): Promise<JobResult> {
  const p = ctx.params;
  const scoringMode = p.scoringMode;
  const [source, artifact, subject, model] = await Promise.all([
    ctx.db.vqaSource.findUnique({ where: { benchmarkId: p.benchmarkId } }),
    ctx.db.artifact.findUnique({ where: { id: p.artifactId } }),
    ctx.run.subjectId ? ctx.db.subject.findUnique({ where: { id: ctx.run.subjectId }, include: { rois: true } }) : null,
    ctx.run.modelId ? ctx.db.model.findUnique({ where: { id: ctx.run.modelId } }) : null,
  ]);
  if (!source) throw new RunInputError(`Benchmark ${p.benchmarkId} no longer has questions`);
  if (!artifact) throw new RunInputError(`Artifact ${p.artifactId} no longer exists`);
  if (Number(artifact.size) > MAX_FILE_BYTES) throw new RunInputError(`${artifact.filename} is larger than ${MAX_FILE_BYTES} bytes`);
  ctx.recordProvenance({
    inputs: { answers: artifact.sha256, benchmark: source.sha256 },
    model: model?.name ?? null,
    subject: subject?.name ?? null,
    scoringMode,
    normalization:
      scoringMode === 'official'
        ? 'vqaEval.py exactly: processPunctuation + processDigitArticle only when references differ, leave-one-out over references'
        : 'official VQA (processPunctuation + processDigitArticle), applied to every answer and reference',
  });

  await ctx.progress(0.05, 'reading answers');
  const bytes = await readPrefix(await ctx.store.get(artifact.sha256), MAX_FILE_BYTES + 1);
  const stored = await ctx.db.vqaQuestion.findMany({ where: { benchmarkId: p.benchmarkId }, include: { stimulus: { select: { externalId: true } } }, orderBy: { line: 'asc' } });
  const questions = stored.map((q) => scorable({ ...q, stimulusId: q.stimulus.externalId }));
  const { byRoi, errors } = checkAnswersFile(bytes, p.format ?? detectFormat(artifact.filename, bytes), new Set(questions.map((q) => q.questionId)));
  if (errors.length)
    throw new RunInputError(`${artifact.filename || 'The answers file'} has ${errors.length} problem${errors.length === 1 ? '' : 's'}: ${describeErrors(errors)}`, {
      errors: errors.slice(0, 1000),
      errorCount: errors.length,
    });

  await ctx.progress(0.2, `scoring ${questions.length} questions on ${byRoi.size} answer set(s), ${p.bootstrapSamples} bootstrap resamples`);
  const scorer = new VqaScorer(questions, { nBootstrap: p.bootstrapSamples, seed: p.seed, mode: scoringMode });
  const roiIds = new Map((subject?.rois ?? []).map((r) => [r.name, r.id]));
  const scores: ScoreRecord[] = [];
  const results = new Map<string, AnswerSetScore>();
  const missing: Record<string, { count: number; first: { questionId: string; line: number }[] }> = {};
  // Whole-brain answers ('') first, then ROIs in name order; the same resamples serve all.
  for (const roi of [...byRoi.keys()].sort()) {
    const answers = new Map([...byRoi.get(roi)!].map(([id, a]) => [id, a.answer]));
    const result = scorer.score(answers);
    results.set(roi, result);
    const prefix = roi ? `roi:${roi}` : '';
    const common = { metric: METRIC, benchmarkId: ctx.run.benchmarkId, roiId: roi ? (roiIds.get(roi) ?? null) : null };
    scores.push({ ...common, ...summaryScore(result.overall, p.bootstrapSamples, scoringMode), scope: prefix || 'all' });
    for (const [category, s] of result.categories)
      scores.push({ ...common, ...summaryScore(s, p.bootstrapSamples, scoringMode), scope: `${prefix ? `${prefix}|` : ''}category:${category}` });
    const unanswered = result.questions.flatMap((r, i) => (r.answered ? [] : [{ questionId: r.questionId, line: stored[i].line }]));
    missing[roi || 'all'] = { count: unanswered.length, first: unanswered.slice(0, MISSING_IN_PROVENANCE) };
  }

  await ctx.progress(0.9, 'storing per-question results');
  const perQuestion = {
    benchmarkId: p.benchmarkId,
    runId: ctx.run.id,
    subject: subject?.name ?? null,
    categories: scorer.categories,
    priorAnswer: Object.fromEntries(scorer.priorAnswer),
    // Rows of the per-ROI by category comparison (whole brain under "all").
    byCategory: Object.fromEntries([...results].map(([roi, r]) => [roi || 'all', Object.fromEntries([...r.categories].map(([c, s]) => [c, s.value]))])),
    questions: questions.map((q, i) => ({
      questionId: q.questionId,
      stimulusId: q.stimulusId,
      category: q.category,
      answerType: q.answerType,
      line: q.line,
      chance: scorer.chance[i],
      prior: scorer.prior[i],
      answers: Object.fromEntries(
        [...results].map(([roi, r]) => [roi || 'all', { answer: byRoi.get(roi)!.get(q.questionId)?.answer ?? null, normalized: r.questions[i].normalized, accuracy: r.questions[i].accuracy }]),
      ),
    })),
  };
  const out = await storeOutput(ctx, Buffer.from(JSON.stringify(perQuestion)), { filename: 'vqa-per-question.json', mediaType: 'application/json' });
  ctx.recordProvenance({
    nQuestions: questions.length,
    nImages: scorer.images.length,
    nCategories: scorer.categories.length,
    answerSets: [...results.keys()].map((r) => r || 'all'),
    // Unanswered benchmark questions (line = line of the benchmark file); scored as wrong.
    missing,
    nBootstrap: p.bootstrapSamples,
    seed: p.seed,
  });
  await ctx.progress(1, 'scored');
  return { outputs: { perQuestion: out.id }, scores };
}

function summaryScore(s: Summary, nBootstrap: number, scoringMode: string): Omit<ScoreRecord, 'metric'> {
  return {
    value: s.value,
    ciLow: s.ciLow,
    ciHigh: s.ciHigh,
    n: s.n,
    extra: { chance: s.chance, prior: s.prior, n: s.n, missing: s.nMissing, nBootstrap, scoringMode },
  };
}
