// CAUSAL_TEST through the API on synthetic data with planted concept-causal and cue-driven voxels:
// catalog, bad input refused before queueing, recovery of the planted classes, follow-ups sized
// by the noise ceiling, the check on measured responses, and the causal leaderboard.
import { encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { registerSynthetic, type RegisteredSubject } from '../helpers/synthetic-catalog';
import { uploadArtifact, waitForRun } from '../helpers/upload';
import { uniqueName } from '../helpers/db';
import { trialsForPower } from '../../src/compute/causal/stats';
import { causalSynthetic } from './synthetic-causal';

const synthetic = causalSynthetic();
const st = synthetic.stimuli;
let api: TestApi;
let subject: RegisteredSubject;
let datasetId: string;
let clipModelId: string;
let encoderRunId: string;
let conceptQueryId: string;

const CREATE = `mutation($i: CreateConceptQueryInput!) { createConceptQuery(input: $i) { id name concept stimulusSet { id nStimuli }
  pairs { positive { externalId } counterfactual { externalId } } distractorGroups { cue stimuli { externalId } } baseline { externalId } } }`;
const SUBMIT = `mutation($i: CausalTestInput!) { submitCausalTest(input: $i) { id status params } }`;
const RESULT = `query($id: ID!) { causalTestResult(runId: $id) {
  concept fdrQ minEffect falsePositiveFraction roiFalsePositiveFraction
  counts { voxels { validatedCausal activationOnly neither activationPositive } rois { validatedCausal activationOnly neither activationPositive } }
  validatedCausalEffect { effect ciLow ciHigh }
  rois { roi class nVoxels nValidatedVoxels activationEffect causalEffect ciLow ciHigh causalDz { effect ciLow ciHigh } replicated measuredHolds distractors { cue effect ciLow ciHigh q } }
  validatedVoxels { voxel rois causalEffect ciLow ciHigh measuredHolds }
  followUps { voxelOrRoi pairs { positive counterfactual predictedEffect } predictedEffect noiseSd standardizedEffect trialsFor80Power }
  designFile { downloadUrl }
  measured { nStimuli nPairs candidatesTested candidatesHolding }
  groundTruth { recall falsePositiveRate activationFlaggedNonCausal }
  conceptQuery { id } run { id } } }`;

function conceptInput(overrides: Record<string, unknown> = {}) {
  return { datasetId, name: uniqueName('food'), concept: 'food', positives: st.positives, counterfactuals: st.counterfactuals, distractorGroups: st.distractorGroups, baseline: st.baseline, ...overrides };
}

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  const registered = await registerSynthetic(api, { backbones: synthetic.backbones, subjects: [synthetic.subject] });
  datasetId = registered.datasetId;
  subject = registered.subjects[0];
  const { featureSet } = await api.ok(`query($id: ID!) { featureSet(id: $id) { model { id } } }`, { id: subject.featureSets.clip });
  clipModelId = featureSet.model.id;
  const { submitEncodingRidge } = await api.ok(`mutation($i: EncodingRidgeInput!) { submitEncodingRidge(input: $i) { id } }`, {
    i: { featureSetId: subject.featureSets.clip, responseSetId: subject.responseSetId, testStimulusIds: synthetic.sharedTestIds, bootstrapSamples: 0 },
  });
  encoderRunId = submitEncodingRidge.id;
  expect((await waitForRun(api, encoderRunId, 120_000)).status).toBe('SUCCEEDED');

  const { createConceptQuery } = await api.ok(CREATE, { i: conceptInput({ name: 'food-synthetic' }) });
  conceptQueryId = createConceptQuery.id;
  const f = st.features.clip;
  const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [f.rows, f.cols], data: f.data }), 'food-clip.npy');
  const { importFeatureSet } = await api.ok(`mutation($i: ImportFeatureSetInput!) { importFeatureSet(input: $i) { run { id } } }`, {
    i: { modelId: clipModelId, stimulusSetId: createConceptQuery.stimulusSet.id, artifactId: artifact.id },
  });
  expect((await waitForRun(api, importFeatureSet.run.id)).status).toBe('SUCCEEDED');

  // The subject saw 30 of the pairs in the scanner (3 repeats): a stimulus set of their own.
  const rows = [...Array.from({ length: 30 }, (_, i) => i), ...Array.from({ length: 30 }, (_, i) => st.positives.length + i)];
  const { createStimulusSet } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
    i: { datasetId, name: 'food-scanned', stimuli: rows.map((r) => ({ externalId: st.externalIds[r] })) },
  });
  const betas = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [3, rows.length, synthetic.subject.nVoxels], data: synthetic.measure(rows) }), 'food-betas.npy');
  const { importResponseSet } = await api.ok(`mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } } }`, {
    i: { subjectId: subject.subjectId, stimulusSetId: createStimulusSet.id, artifactId: betas.id },
  });
  expect((await waitForRun(api, importResponseSet.run.id)).status).toBe('SUCCEEDED');
}, 240_000);
afterAll(() => api?.close());

describe('concept queries', () => {
  it('stores positives, their counterfactual pairing, labelled distractor groups and the baseline in one stimulus set', async () => {
    const { conceptQuery } = await api.ok(`query($id: ID!) { conceptQuery(id: $id) { concept stimulusSet { nStimuli } pairs { positive { externalId } counterfactual { externalId } }
      distractorGroups { cue stimuli { externalId } } baseline { externalId } featureSets { dim status } } }`, { id: conceptQueryId });
    expect(conceptQuery.stimulusSet.nStimuli).toBe(st.externalIds.length);
    expect(conceptQuery.pairs).toHaveLength(st.positives.length);
    conceptQuery.pairs.forEach((p: any, i: number) => {
      expect(p.positive.externalId).toBe(st.positives[i].externalId);
      expect(p.counterfactual.externalId).toBe(st.counterfactuals.find((c) => c.positive === p.positive.externalId)!.externalId);
    });
    expect(conceptQuery.distractorGroups.map((g: any) => [g.cue, g.stimuli.length])).toEqual([['plate', 40], ['table', 40]]);
    expect(conceptQuery.baseline).toHaveLength(60);
    expect(conceptQuery.featureSets).toEqual([{ dim: 512, status: 'READY' }]);
    const { conceptQueries } = await api.ok(`query($d: ID!) { conceptQueries(datasetId: $d, concept: "food") { id } }`, { d: datasetId });
    expect(conceptQueries.map((q: any) => q.id)).toContain(conceptQueryId);
  });

  it('refuses unpaired counterfactuals, empty distractor groups and too few positives, writing nothing', async () => {
    const before = await api.db.stimulusSet.count();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ counterfactuals: st.counterfactuals.slice(1) }, 'counterfactuals', /1 positive has no counterfactual/],
      [{ counterfactuals: [...st.counterfactuals.slice(1), { ...st.counterfactuals[1], externalId: 'extra' }] }, 'counterfactuals[59].positive', /two counterfactuals/],
      [{ counterfactuals: [{ ...st.counterfactuals[0], positive: 'nope' }, ...st.counterfactuals.slice(1)] }, 'counterfactuals[0].positive', /not among the positives/],
      [{ distractorGroups: [{ cue: 'table', stimuli: [] }] }, 'distractorGroups[0].stimuli', /empty/],
      [{ distractorGroups: [] }, 'distractorGroups', /at least one distractor group/],
      [{ positives: st.positives.slice(0, 4), counterfactuals: st.counterfactuals.slice(0, 4) }, 'positives', /too few/],
    ];
    for (const [overrides, field, message] of cases) {
      const res = await api.gql(CREATE, { i: conceptInput(overrides) });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0].message).toMatch(message);
    }
    expect(await api.db.stimulusSet.count()).toBe(before);
  });
});

describe('submitCausalTest', () => {
  it('refuses bad thresholds, unknown ids, a mismatched subject or model and unfinished encoders before queueing', async () => {
    const base = { conceptQueryId, encoderRunId };
    const expectError = async (input: Record<string, unknown>, code: string, field?: string) => {
      const res = await api.gql(SUBMIT, { i: { ...base, ...input } });
      expect(res.errors?.[0].extensions?.code).toBe(code);
      if (field) expect(res.errors?.[0].extensions?.field).toBe(field);
      return res.errors![0].message as string;
    };
    for (const fdrQ of [0, 1, -0.1, 1.5]) await expectError({ fdrQ }, 'BAD_USER_INPUT', 'fdrQ');
    await expectError({ minEffect: -0.5 }, 'BAD_USER_INPUT', 'minEffect');
    await expectError({ heldOutFraction: 0.95 }, 'BAD_USER_INPUT', 'heldOutFraction');
    await expectError({ conceptQueryId: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND');
    await expectError({ encoderRunId: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND');
    expect(await expectError({ subjectId: '00000000-0000-4000-8000-000000000000' }, 'BAD_USER_INPUT', 'subjectId')).toMatch(/another subject/);
    // An import run is not an encoder; a failed encoder has no weights to use.
    const importRun = await api.db.run.findFirstOrThrow({ where: { kind: 'IMPORT_FEATURES' } });
    expect(await expectError({ encoderRunId: importRun.id }, 'BAD_USER_INPUT', 'encoderRunId')).toMatch(/ENCODING_RIDGE or ENCODING_ICL/);
    const encoder = await api.db.run.findUniqueOrThrow({ where: { id: encoderRunId } });
    const failed = await api.db.run.create({ data: { labId: encoder.labId, kind: 'ENCODING_RIDGE', status: 'FAILED', params: encoder.params as object, subjectId: encoder.subjectId, modelId: encoder.modelId, visibility: 'PUBLIC' } });
    expect(await expectError({ encoderRunId: failed.id }, 'BAD_USER_INPUT', 'encoderRunId')).toMatch(/FAILED; wait until it SUCCEEDED/);
    // The query has no features of the encoder's model yet.
    const { createConceptQuery: bare } = await api.ok(CREATE, { i: conceptInput() });
    expect(await expectError({ conceptQueryId: bare.id }, 'BAD_USER_INPUT', 'conceptQueryId')).toMatch(/no READY features/);
    // Features of the right model but another width (the catalog refuses such imports when the
    // model declares its width; a model registered without one can hold them).
    const narrow = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [st.externalIds.length, 16], data: new Float32Array(st.externalIds.length * 16).fill(0.5) }), 'narrow.npy');
    await api.db.featureSet.create({ data: { modelId: clipModelId, stimulusSetId: bare.stimulusSet.id, status: 'READY', dim: 16, artifactId: narrow.id } });
    expect(await expectError({ conceptQueryId: bare.id }, 'BAD_USER_INPUT', 'encoderRunId')).toMatch(/Feature width mismatch: the encoder's weights take 512 features/);
    expect(await api.db.run.count({ where: { kind: 'CAUSAL_TEST' } })).toBe(0);
  }, 60_000);

  it('recovers the planted classes: causal voxels validated, cue-driven voxels rejected though activation flags them', async () => {
    const { createBenchmark: bench } = await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: CAUSAL, metric: "causal.recall" }) { id } }`, { n: uniqueName('causal') });
    const { submitCausalTest: run } = await api.ok(SUBMIT, {
      i: { conceptQueryId, encoderRunId, subjectId: subject.subjectId, benchmarkId: bench.id, groundTruth: { causalVoxels: synthetic.causalVoxels, nonCausalVoxels: synthetic.cueVoxels } },
    });
    expect(run.params).toMatchObject({ fdrQ: 0.05, minEffect: 1, splitSeed: 0, unitNormFeatures: false });
    const done = await waitForRun(api, run.id, 120_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    const { causalTestResult: r } = await api.ok(RESULT, { id: run.id });

    // Planted truth: recall >= 0.9, <= 5% of cue-driven voxels validated, most of them flagged by activation alone.
    const classes = new Set(r.validatedVoxels.map((v: any) => v.voxel));
    const recall = synthetic.causalVoxels.filter((j) => classes.has(j)).length / synthetic.causalVoxels.length;
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(r.groundTruth.recall).toBeCloseTo(recall, 12);
    expect(r.groundTruth.falsePositiveRate).toBeLessThanOrEqual(0.05);
    expect(r.groundTruth.activationFlaggedNonCausal).toBeGreaterThan(0.5);
    // The paper's qualitative result: most activation-only localisations are false positives.
    const c = r.counts.voxels;
    expect(c.validatedCausal + c.activationOnly + c.neither).toBe(synthetic.subject.nVoxels);
    expect(r.falsePositiveFraction).toBeCloseTo(c.activationOnly / c.activationPositive, 12);
    expect(r.falsePositiveFraction).toBeGreaterThan(0.5);

    const byRoi = Object.fromEntries(r.rois.map((x: any) => [x.roi, x]));
    expect(byRoi.V4.class).toBe('VALIDATED_CAUSAL');
    expect(byRoi.V4.replicated).toBe(true);
    expect(byRoi.V4.ciLow).toBeLessThanOrEqual(byRoi.V4.causalEffect);
    expect(byRoi.V4.ciHigh).toBeGreaterThanOrEqual(byRoi.V4.causalEffect);
    expect(byRoi.V4.distractors.map((d: any) => d.cue).sort()).toEqual(['plate', 'table']);
    expect(byRoi.PPA.class).not.toBe('VALIDATED_CAUSAL');
    expect(byRoi.EBA.class).not.toBe('VALIDATED_CAUSAL');
    for (const roi of r.rois) expect(roi.nValidatedVoxels).toBe(r.validatedVoxels.filter((v: any) => v.rois.includes(roi.roi)).length);

    // The validated V4 voxels hold on the measured responses to the 30 scanned pairs.
    expect(r.measured).toMatchObject({ nStimuli: 60, nPairs: 30, candidatesTested: c.validatedCausal });
    expect(r.measured.candidatesHolding / r.measured.candidatesTested).toBeGreaterThan(0.8);
    expect(byRoi.V4.measuredHolds).toBe(true);

    // Follow-ups: the noise SD comes from the noise ceiling; the generator's trial noise is N(0, 1).
    const voxelFollowUps = r.followUps.filter((f: any) => f.voxelOrRoi.startsWith('voxel:'));
    expect(voxelFollowUps.length).toBeGreaterThan(0);
    const noise = voxelFollowUps.map((f: any) => f.noiseSd);
    expect(noise.reduce((a: number, b: number) => a + b, 0) / noise.length).toBeGreaterThan(0.85);
    expect(noise.reduce((a: number, b: number) => a + b, 0) / noise.length).toBeLessThan(1.15);
    for (const f of r.followUps) {
      expect(f.pairs).toHaveLength(5);
      expect(f.predictedEffect).toBeCloseTo(f.pairs.reduce((a: number, p: any) => a + p.predictedEffect, 0) / 5, 6);
      expect(f.standardizedEffect).toBeCloseTo(f.predictedEffect / (Math.SQRT2 * f.noiseSd), 6);
      expect(f.trialsFor80Power).toBe(trialsForPower(f.standardizedEffect));
      const sorted = f.pairs.map((p: any) => p.predictedEffect);
      expect([...sorted].sort((a, b) => b - a)).toEqual(sorted);
    }
    const design = (await (await fetch(r.designFile.downloadUrl)).json()) as { experiments: unknown };
    expect(design.experiments).toEqual(r.followUps);

    // Scores and the causal leaderboard.
    const { run: scored } = await api.ok(`query($id: ID!) { run(id: $id) { scores { metric scope value } outputs { name } } }`, { id: run.id });
    const score = (metric: string, scope = 'all') => scored.scores.find((s: any) => s.metric === metric && s.scope === scope)?.value;
    expect(score('causal.recall')).toBeCloseTo(recall, 12);
    expect(score('causal.false_positive_rate')).toBe(r.groundTruth.falsePositiveRate);
    // Every planted causal voxel is in V4; the cue-driven ones are in PPA and EBA.
    expect(score('causal.recall', 'roi:V4')).toBeCloseTo(recall, 12);
    expect(score('causal.recall', 'roi:PPA')).toBeUndefined();
    expect(score('causal.false_positive_rate', 'roi:PPA')).toBeLessThanOrEqual(0.05);
    expect(score('causal.activation_only_fraction')).toBeCloseTo(r.falsePositiveFraction, 12);
    expect(score('causal.n_validated', 'roi:V4')).toBe(byRoi.V4.nValidatedVoxels);
    expect(scored.outputs.map((o: any) => o.name).sort()).toEqual(['activationEffect', 'activationQ', 'causalClass', 'causalEffect', 'causalQ', 'designFile', 'result']);
    const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b) { edges { node { value run { id } } } } }`, { b: bench.id });
    expect(leaderboard.edges.map((e: any) => e.node.run.id)).toEqual([run.id]);
    expect(leaderboard.edges[0].node.value).toBeCloseTo(recall, 12);
    const { leaderboard: v4 } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, roi: "V4") { edges { node { value run { id } } } } }`, { b: bench.id });
    expect(v4.edges.map((e: any) => e.node.run.id)).toEqual([run.id]);
  }, 180_000);
});
