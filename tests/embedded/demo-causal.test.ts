// The causal demo through the same domain functions the mutations call: planted concept-causal
// (V4, food) and cue-driven (PPA table, EBA plate) voxels, a ridge encoder, the concept query with
// its features, the CAUSAL_TEST recovering the planted classes, its CAUSAL leaderboard, and a
// second start that queues nothing again.
import { DEMO_CAUSAL_BENCHMARK, DEMO_CONCEPT, DEMO_CONCEPT_QUERY, demoCausalData, queueCausalDemo, seedCausalDemo } from '../../src/embedded/demo-causal';
import { startTestApi, type TestApi } from '../helpers/api';
import { waitForRun } from '../helpers/upload';
import { demoRuns, recordingLog, untilQueued } from './demo-helpers';

let api: TestApi;
const { lines, log } = recordingLog();
const truth = demoCausalData();
let runId: string;

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  expect(await seedCausalDemo(api.services, log)).toBe(true);
  await untilQueued(() => queueCausalDemo(api.services, log), 240_000);
  const runs = await demoRuns(api, 'CAUSAL_TEST');
  expect(runs).toHaveLength(1);
  runId = runs[0].id;
  const done = await waitForRun(api, runId, 180_000);
  expect(done.error).toBeNull();
  expect(done.status).toBe('SUCCEEDED');
}, 300_000);
afterAll(() => api?.close());

it('stores the concept query with its pairs, distractor groups, baseline and features', async () => {
  const { conceptQueries } = await api.ok(`query($d: ID!) { conceptQueries(datasetId: $d, concept: "${DEMO_CONCEPT}") { name pairs { positive { externalId } } distractorGroups { cue stimuli { externalId } } baseline { externalId } featureSets { dim status } } }`, {
    d: (await api.db.dataset.findFirstOrThrow({ where: { name: 'synthetic-causal' } })).id,
  });
  expect(conceptQueries).toHaveLength(1);
  const q = conceptQueries[0];
  expect(q.name).toBe(DEMO_CONCEPT_QUERY);
  expect(q.pairs).toHaveLength(60);
  expect(q.distractorGroups.map((g: any) => [g.cue, g.stimuli.length])).toEqual([['plate', 40], ['table', 40]]);
  expect(q.baseline).toHaveLength(60);
  expect(q.featureSets).toEqual([{ dim: 512, status: 'READY' }]);
});

it('recovers the planted classes: causal voxels validated, cue-driven ones rejected though activation flags them', async () => {
  const { causalTestResult: r } = await api.ok(`query($id: ID!) { causalTestResult(runId: $id) { concept falsePositiveFraction
    counts { voxels { validatedCausal activationOnly neither activationPositive } } rois { roi class } validatedVoxels { voxel }
    groundTruth { recall falsePositiveRate activationFlaggedNonCausal } measured { nPairs candidatesTested } followUps { trialsFor80Power } } }`, { id: runId });
  expect(r.concept).toBe(DEMO_CONCEPT);
  const validated = new Set(r.validatedVoxels.map((v: any) => v.voxel));
  const recall = truth.causalVoxels.filter((j) => validated.has(j)).length / truth.causalVoxels.length;
  const cueValidated = truth.cueVoxels.filter((j) => validated.has(j)).length / truth.cueVoxels.length;
  expect(recall).toBeGreaterThanOrEqual(0.9);
  expect(r.groundTruth.recall).toBeCloseTo(recall, 12);
  expect(cueValidated).toBeLessThanOrEqual(0.05);
  expect(r.groundTruth.falsePositiveRate).toBeCloseTo(cueValidated, 12);
  expect(r.groundTruth.activationFlaggedNonCausal).toBeGreaterThan(0.5);
  const c = r.counts.voxels;
  expect(r.falsePositiveFraction).toBeCloseTo(c.activationOnly / c.activationPositive, 12);
  expect(r.falsePositiveFraction).toBeGreaterThan(0.5);
  expect(Object.fromEntries(r.rois.map((x: any) => [x.roi, x.class])).V4).toBe('VALIDATED_CAUSAL');
  expect(r.measured.nPairs).toBe(30);
  expect(r.followUps.length).toBeGreaterThan(0);
});

it('ranks the test on the CAUSAL leaderboard by its recall of the planted voxels', async () => {
  const { benchmarks } = await api.ok('{ benchmarks { id name kind metric } }');
  const bench = benchmarks.find((b: any) => b.name === DEMO_CAUSAL_BENCHMARK);
  expect(bench).toMatchObject({ kind: 'CAUSAL', metric: 'causal.recall' });
  const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b) { edges { node { rank value run { id } } } } }`, { b: bench.id });
  const { causalTestResult: r } = await api.ok(`query($id: ID!) { causalTestResult(runId: $id) { groundTruth { recall } } }`, { id: runId });
  expect(leaderboard.edges.map((e: any) => e.node.run.id)).toEqual([runId]);
  expect(leaderboard.edges[0].node.value).toBeCloseTo(r.groundTruth.recall, 12);
});

it('seeds and queues nothing on a second start, and says so', async () => {
  lines.length = 0;
  expect(await seedCausalDemo(api.services, log)).toBe(false);
  expect(await queueCausalDemo(api.services, log)).toBe(true);
  expect(await demoRuns(api, 'CAUSAL_TEST')).toHaveLength(1);
  expect(await demoRuns(api, 'ENCODING_RIDGE')).toHaveLength(1);
  expect(lines.map((l) => l.message)).toEqual(['demo causal test: nothing to queue, already queued by an earlier start']);
});
