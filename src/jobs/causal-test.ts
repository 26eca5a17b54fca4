// CAUSAL_TEST: an encoder's predictions for a concept query's controlled stimuli, tested per voxel
// and per ROI (activation, paired causal contrast, distractor contrasts; discovery and held-out
// halves), checked on measured responses where the subject saw some of the stimuli, with
// follow-up experiments for the validated candidates. See src/compute/causal.
import { z } from 'zod';
import { RunInputError, type JobResult, type ScoreRecord } from '../runs/types';
import { defineJob, type JobContext } from './define';
import { runCausalTest } from '../compute/causal/causal-test';
import { CLASS, countClasses } from '../compute/causal/classify';
import type { CausalDesign } from '../compute/causal/design';
import { checkMeasured } from '../compute/causal/measured';
import { noiseSdFromCeiling } from '../compute/causal/stats';
import { summarise } from '../compute/causal/summary';
import { sharedEngine } from '../compute/engine-instance';
import { loadSplit, loadVector } from './io/load-arrays';
import { saveArray, storeOutput } from './io/outputs';

const followUpMessage = (got: unknown) => `followUpPairs must be an integer from 1 to 50 (got ${got})`;

/** The test's own settings, checked before anything is looked up. */
export const causalTestSettings = z.object({
  /** Benjamini-Hochberg false discovery rate over the voxel tests. */
  fdrQ: z
    .number()
    .gt(0, { error: (iss) => `fdrQ must lie strictly between 0 and 1 (got ${iss.input})` })
    .lt(1, { error: (iss) => `fdrQ must lie strictly between 0 and 1 (got ${iss.input})` })
    .default(0.05),
  /** Smallest predicted contrast (in response units) a voxel must show to count. */
  minEffect: z.number({ error: (iss) => `minEffect must be a finite number >= 0 (got ${iss.input})` }).min(0, { error: (iss) => `minEffect must be a finite number >= 0 (got ${iss.input})` }).default(1),
  splitSeed: z.number().int({ error: 'splitSeed must be an integer' }).default(0),
  heldOutFraction: z
    .number()
    .min(0.2, { error: (iss) => `heldOutFraction must lie in [0.2, 0.8] (got ${iss.input})` })
    .max(0.8, { error: (iss) => `heldOutFraction must lie in [0.2, 0.8] (got ${iss.input})` })
    .default(0.5),
  followUpPairs: z
    .number()
    .int({ error: (iss) => followUpMessage(iss.input) })
    .min(1, { error: (iss) => followUpMessage(iss.input) })
    .max(50, { error: (iss) => followUpMessage(iss.input) })
    .default(5),
});

/** As recorded on the run (every field has been recorded since the kind exists). */
export const causalTestParams = causalTestSettings.extend({
  conceptQueryId: z.string(),
  encoderRunId: z.string(),
  /** The concept query's features from the encoder's model. */
  featureSetId: z.string(),
  weightsArtifactId: z.string(),
  subjectId: z.string(),
  /** The response set the encoder was fit on: its noise ceiling sizes the follow-ups. */
  responseSetId: z.string().nullable().default(null),
  unitNormFeatures: z.boolean(),
  /** Planted voxels (synthetic data): the run reports how well they were recovered. */
  groundTruth: z
    .object({ causalVoxels: z.array(z.number().int().min(0)), nonCausalVoxels: z.array(z.number().int().min(0)) })
    .nullable()
    .default(null),
});
export type CausalTestParams = z.output<typeof causalTestParams>;

const all = (n: number) => ({ train: Int32Array.from({ length: n }, (_, i) => i), test: new Int32Array(0) });

export const causalTest = defineJob({
  kind: 'CAUSAL_TEST',
  params: causalTestParams,
  handle: testCausalConcept,
});

async function testCausalConcept(ctx: JobContext<CausalTestParams>): Promise<JobResult> {
  const p = ctx.params;
  const query = await ctx.db.conceptQuery.findUnique({ where: { id: p.conceptQueryId }, include: { distractorGroups: { orderBy: { cue: 'asc' } } } });
  const featureSet = await ctx.db.featureSet.findUnique({ where: { id: p.featureSetId }, include: { artifact: true } });
  const weights = await ctx.db.artifact.findUnique({ where: { id: p.weightsArtifactId } });
  const subject = await ctx.db.subject.findUnique({ where: { id: p.subjectId }, include: { rois: { orderBy: { name: 'asc' } } } });
  if (!query || !featureSet?.artifact || !weights || !subject) throw new RunInputError('The concept query, its features, the encoder weights or the subject no longer exist');
  ctx.recordProvenance({ inputs: { features: featureSet.artifact.sha256, weights: weights.sha256 }, concept: query.concept, subject: subject.name });

  const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId: query.stimulusSetId }, select: { externalId: true, position: true }, orderBy: { position: 'asc' } });
  await ctx.progress(0.02, `loading features of ${stimuli.length} stimuli and the encoder weights`);
  const X = (await loadSplit(ctx, featureSet.artifact, null, all(stimuli.length), stimuli.length)).train;
  const [rows] = weights.shape;
  const W = (await loadSplit(ctx, weights, null, all(rows), rows)).train;
  if (W.rows !== X.cols + 1) throw new RunInputError(`The encoder weights have ${W.rows} rows; features of width ${X.cols} need ${X.cols + 1}`);
  if (W.cols !== subject.nVoxels) throw new RunInputError(`The encoder predicts ${W.cols} voxels; subject ${subject.name} has ${subject.nVoxels}`);

  const design: CausalDesign = {
    positives: Int32Array.from(query.positivePositions),
    counterfactuals: Int32Array.from(query.counterfactualPositions),
    distractors: query.distractorGroups.map((g) => ({ cue: g.cue, rows: Int32Array.from(g.positions) })),
    baseline: Int32Array.from(query.baselinePositions),
  };
  const rois = subject.rois.map((r) => ({ name: r.name, voxels: r.voxelIndices }));
  const thresholds = { fdrQ: p.fdrQ, minEffect: p.minEffect };
  const engine = await sharedEngine();
  ctx.recordProvenance({ engine: engine.provenance });
  const outcome = await runCausalTest(engine, {
    features: X,
    weights: W,
    unitNormFeatures: p.unitNormFeatures,
    design,
    splitSeed: p.splitSeed,
    heldOutFraction: p.heldOutFraction,
    rois,
    thresholds,
    topPairs: p.followUpPairs,
    onProgress: (f, message) => ctx.progress(0.1 + 0.7 * f, message),
  });

  await ctx.progress(0.82, 'checking measured responses and sizing follow-up experiments');
  const noiseSd = await loadNoiseSd(ctx, p.responseSetId, subject.nVoxels);
  const validatedVoxels: number[] = [];
  outcome.voxels.classification.classes.forEach((c, j) => c === CLASS.VALIDATED_CAUSAL && validatedVoxels.push(j));
  const measured = await loadMeasured(ctx, subject.id, stimuli, subject.nVoxels);
  const measuredOutcome = measured
    ? checkMeasured({
        responseSetId: measured.responseSetId,
        measured: measured.matrix,
        rowOf: measured.rowOf,
        positives: design.positives,
        counterfactuals: design.counterfactuals,
        validatedVoxels,
        rois,
        validatedRois: Array.from(outcome.rois.classification.classes, (c) => c === CLASS.VALIDATED_CAUSAL),
        fdrQ: p.fdrQ,
      })
    : null;
  const body = summarise({
    conceptQueryId: query.id,
    concept: query.concept,
    outcome,
    design,
    externalIds: stimuli.map((s) => s.externalId),
    rois,
    thresholds,
    noiseSd,
    measured: measuredOutcome,
    groundTruth: p.groundTruth,
  });

  await ctx.progress(0.9, 'storing maps, result and follow-up designs');
  const V = subject.nVoxels;
  const v = outcome.voxels;
  const json = async (value: unknown, filename: string) =>
    (await storeOutput(ctx, Buffer.from(JSON.stringify(value, null, 1)), { filename, mediaType: 'application/json' })).id;
  const outputs: Record<string, string> = {
    // 2 validated causal, 1 activation-only, 0 neither.
    causalClass: await saveArray(ctx, v.classification.classes, [V], 'causal-class.npy'),
    causalEffect: await saveArray(ctx, v.heldOut.causal.effect, [V], 'causal-effect-dav-heldout.npy'),
    activationEffect: await saveArray(ctx, v.discovery.activation.effect, [V], 'activation-effect-g-discovery.npy'),
    causalQ: await saveArray(ctx, v.classification.q.causal, [V], 'causal-q-discovery.npy'),
    activationQ: await saveArray(ctx, v.classification.q.activation, [V], 'activation-q-discovery.npy'),
    result: await json(body, 'causal-test-result.json'),
    designFile: await json({ concept: query.concept, conceptQueryId: query.id, subject: subject.name, fdrQ: p.fdrQ, minEffect: p.minEffect, power: 0.8, alpha: 0.05, experiments: body.followUps }, 'follow-up-design.json'),
  };
  ctx.recordProvenance({ nStimuli: stimuli.length, nVoxels: V, nPairs: design.positives.length, timings: outcome.timings, measuredResponseSet: measured?.responseSetId ?? null });
  return { outputs, scores: causalScores(ctx, rois, subject.rois, v.classification) };
}

function causalScores(
  ctx: JobContext<CausalTestParams>,
  rois: { name: string; voxels: number[] }[],
  roiRows: { id: string; name: string }[],
  classification: Parameters<typeof countClasses>[0],
): ScoreRecord[] {
  const benchmarkId = ctx.run.benchmarkId;
  const roiIds = new Map(roiRows.map((r) => [r.name, r.id]));
  const scores: ScoreRecord[] = [];
  const scopes: { scope: string; roiId: string | null; c: ReturnType<typeof countClasses>; n: number }[] = [
    { scope: 'all', roiId: null, c: countClasses(classification), n: classification.classes.length },
    ...rois.map((r) => ({ scope: `roi:${r.name}`, roiId: roiIds.get(r.name) ?? null, c: countClasses(classification, r.voxels), n: r.voxels.length })),
  ];
  for (const s of scopes) {
    const common = { scope: s.scope, roiId: s.roiId, benchmarkId, n: s.n };
    if (s.c.falsePositiveFraction !== null)
      scores.push({ ...common, metric: 'causal.activation_only_fraction', value: s.c.falsePositiveFraction, extra: { activationPositive: s.c.activationPositive } });
    scores.push({ ...common, metric: 'causal.n_validated', value: s.c.validatedCausal });
    scores.push({ ...common, metric: 'causal.n_activation_only', value: s.c.activationOnly });
    scores.push({ ...common, metric: 'causal.n_activation_positive', value: s.c.activationPositive });
  }
  const truth = ctx.params.groundTruth;
  if (truth) {
    // Recall over the planted causal voxels, false-positive rate over the known non-causal ones,
    // for the whole brain and within each ROI that holds any.
    const validated = (j: number) => classification.classes[j] === CLASS.VALIDATED_CAUSAL;
    for (const s of scopes) {
      const inScope = s.scope === 'all' ? null : new Set(rois.find((r) => `roi:${r.name}` === s.scope)!.voxels);
      const pick = (voxels: number[]) => (inScope ? voxels.filter((j) => inScope.has(j)) : voxels);
      const causal = pick(truth.causalVoxels);
      const nonCausal = pick(truth.nonCausalVoxels);
      const common = { scope: s.scope, roiId: s.roiId, benchmarkId };
      if (causal.length) scores.push({ ...common, metric: 'causal.recall', n: causal.length, value: causal.filter(validated).length / causal.length, extra: {} });
      if (nonCausal.length)
        scores.push({
          ...common,
          metric: 'causal.false_positive_rate',
          n: nonCausal.length,
          value: nonCausal.filter(validated).length / nonCausal.length,
          extra: { activationFlagged: nonCausal.filter((j) => classification.activationPositive[j] === 1).length / nonCausal.length },
        });
    }
  }
  return scores;
}

/** Single-trial noise SD per voxel from the encoder's response set (null without a ceiling). */
async function loadNoiseSd(ctx: JobContext<CausalTestParams>, responseSetId: string | null, nVoxels: number): Promise<Float64Array | null> {
  if (!responseSetId) return null;
  const set = await ctx.db.responseSet.findUnique({ where: { id: responseSetId } });
  if (!set?.noiseCeilingArtifactId || !set.sdArtifactId || !set.nRepeats) return null;
  const [ncArtifact, sdArtifact] = await Promise.all([set.noiseCeilingArtifactId, set.sdArtifactId].map((id) => ctx.db.artifact.findUnique({ where: { id } })));
  if (!ncArtifact || !sdArtifact) return null;
  const [nc, sd] = await Promise.all([loadVector(ctx, ncArtifact), loadVector(ctx, sdArtifact)]);
  if (nc.length !== nVoxels || sd.length !== nVoxels) return null;
  return Float64Array.from(nc, (x, j) => noiseSdFromCeiling(x, set.nRepeats!, sd[j]));
}

/**
 * The subject's measured responses to the concept's stimuli: the READY response set whose
 * stimulus set shares the most externalIds with the query (its own set included).
 */
async function loadMeasured(ctx: JobContext<CausalTestParams>, subjectId: string, stimuli: { externalId: string }[], nVoxels: number) {
  const ids = stimuli.map((s) => s.externalId);
  const sets = await ctx.db.responseSet.findMany({ where: { subjectId, status: 'READY', artifactId: { not: null } }, include: { artifact: true } });
  let best: { set: (typeof sets)[number]; matches: { externalId: string; position: number }[] } | null = null;
  for (const set of sets) {
    const matches = await ctx.db.stimulus.findMany({ where: { stimulusSetId: set.stimulusSetId, externalId: { in: ids } }, select: { externalId: true, position: true } });
    if (matches.length && (!best || matches.length > best.matches.length)) best = { set, matches };
  }
  if (!best?.set.artifact) return null;
  const nRows = await ctx.db.stimulus.count({ where: { stimulusSetId: best.set.stimulusSetId } });
  const byId = new Map(best.matches.map((m) => [m.externalId, m.position]));
  const rowOf = new Int32Array(ids.length).fill(-1);
  const positions: number[] = [];
  ids.forEach((id, i) => {
    const pos = byId.get(id);
    if (pos === undefined) return;
    rowOf[i] = positions.length;
    positions.push(pos);
  });
  // Row k of the loaded matrix is stimulus position positions[k] of the response set.
  const loaded = (await loadSplit(ctx, best.set.artifact, null, { train: Int32Array.from(positions), test: new Int32Array(0) }, nRows)).train;
  if (loaded.cols !== nVoxels) return null;
  return { responseSetId: best.set.id, matrix: loaded, rowOf };
}
