// The decoding demo through the same domain functions the mutations call: the VQA benchmark file
// over the demo images, two decoders whose answers were generated with a known accuracy per
// category, scored by VQA_EVAL against that planted accuracy and the closed-form chance and prior
// baselines, ranked on the benchmark's leaderboard; a second start queues nothing again.
import { createContext } from '../../src/resolvers/context';
import { createDataset, createStimulusSet, createSubject } from '../../src/domain/catalog';
import { DEMO_DATASET } from '../../src/embedded/demo-data';
import { DEMO_IMAGE_SET, demoImages } from '../../src/embedded/demo-images';
import { DEMO_DECODERS, DEMO_VQA_BENCHMARK, demoDecoderAnswers, demoVqaQuestions, queueVqaDemo, seedVqaDemo } from '../../src/embedded/demo-vqa';
import { startTestApi, type TestApi } from '../helpers/api';
import { waitForRun } from '../helpers/upload';
import { demoRuns, recordingLog } from './demo-helpers';

let api: TestApi;
const { lines, log } = recordingLog();
const questions = demoVqaQuestions();

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  // The part of the main demo the VQA demo builds on: the dataset, its image set and subj01.
  const ctx = createContext(api.services);
  const dataset = await createDataset(ctx, { name: DEMO_DATASET, visibility: 'PUBLIC' });
  await createSubject(ctx, { datasetId: dataset.id, name: 'subj01', nVoxels: 4, rois: [{ name: 'V1', voxelIndices: [0, 1] }] });
  await createStimulusSet(ctx, { datasetId: dataset.id, name: DEMO_IMAGE_SET, stimuli: demoImages(120).map(({ externalId, concepts, caption }) => ({ externalId, concepts, caption })) });
  expect(await seedVqaDemo(api.services, log)).toBe(true);
  expect(await queueVqaDemo(api.services, log)).toBe(true);
  for (const run of await demoRuns(api, 'VQA_EVAL')) expect((await waitForRun(api, run.id, 120_000)).status).toBe('SUCCEEDED');
}, 240_000);
afterAll(() => api?.close());

it('imports three categories of open and multiple-choice questions, one per image each', async () => {
  const { benchmarks } = await api.ok('{ benchmarks { name kind metric vqa { nQuestions nImages categories { name nQuestions answerTypes } } } }');
  const b = benchmarks.find((x: any) => x.name === DEMO_VQA_BENCHMARK);
  expect(b).toMatchObject({ kind: 'VQA', metric: 'vqa_accuracy', vqa: { nQuestions: 360, nImages: 120 } });
  expect(b.vqa.categories.map((c: any) => [c.name, c.nQuestions, c.answerTypes]).sort()).toEqual([
    ['colour', 120, ['other']],
    ['shape', 120, ['multiple choice']],
    ['yes/no', 120, ['yes/no']],
  ]);
});

it('scores each decoder at the accuracy its answers were generated with, beside chance and prior', async () => {
  // Closed forms: chance is 1/4 (four colours), 1/3 (three choices), 1/2 (yes or no); the prior
  // answer of a category is its most frequent reference (ties: alphabetically first).
  const yes = questions.filter((q) => q.category === 'yes/no' && q.answers[0] === 'yes').length / 120;
  const baseline = { colour: { chance: 0.25, prior: 0.25 }, shape: { chance: 1 / 3, prior: 1 / 3 }, 'yes/no': { chance: 0.5, prior: Math.max(yes, 1 - yes) } };
  for (const d of DEMO_DECODERS) {
    const [run] = (await demoRuns(api, 'VQA_EVAL')).filter((r) => r.idempotencyKey === `demo-vqa-${d.name}`);
    const { run: scored } = await api.ok(`query($id: ID!) { run(id: $id) { scores(metric: "vqa_accuracy") { scope value ciLow ciHigh extra } } }`, { id: run.id });
    const { expected } = demoDecoderAnswers(d, questions);
    for (const [category, p] of Object.entries(expected)) {
      const s = scored.scores.find((x: any) => x.scope === `category:${category}`);
      expect(s.value).toBeCloseTo(p, 12);
      expect(s.value).toBeCloseTo(d.accuracy[category as keyof typeof d.accuracy], 12);
      expect(s.ciLow).toBeLessThanOrEqual(s.value);
      expect(s.ciHigh).toBeGreaterThanOrEqual(s.value);
      expect(s.extra.chance).toBeCloseTo(baseline[category as keyof typeof baseline].chance, 12);
      expect(s.extra.prior).toBeCloseTo(baseline[category as keyof typeof baseline].prior, 12);
    }
    const all = scored.scores.find((x: any) => x.scope === 'all');
    const values = Object.values(expected);
    expect(all.value).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 12);
  }
});

it('ranks the stronger decoder first on the benchmark leaderboard', async () => {
  const { benchmarks } = await api.ok('{ benchmarks { id name } }');
  const id = benchmarks.find((x: any) => x.name === DEMO_VQA_BENCHMARK).id;
  const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b) { edges { node { rank value model { name } } } } }`, { b: id });
  expect(leaderboard.edges.map((e: any) => [e.node.rank, e.node.model.name])).toEqual([
    [1, 'demo-decoder-strong'],
    [2, 'demo-decoder-weak'],
  ]);
  expect(leaderboard.edges[0].node.value).toBeCloseTo((0.9 + 0.85 + 0.95) / 3, 12);
});

it('seeds and queues nothing on a second start, and says so', async () => {
  lines.length = 0;
  expect(await seedVqaDemo(api.services, log)).toBe(false);
  expect(await queueVqaDemo(api.services, log)).toBe(true);
  expect(await demoRuns(api, 'VQA_EVAL')).toHaveLength(2);
  expect(lines.map((l) => l.message)).toEqual(['demo VQA evaluations: nothing to queue, already queued by an earlier start']);
});
