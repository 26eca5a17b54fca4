// NSD-VQA through the API: benchmark import (all-or-nothing, line-numbered errors), answer
// submission scored by the real VQA_EVAL handler, scores and the benchmark's leaderboard.
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';

let api: TestApi;
let ids: { stimulusSetId: string; subjectId: string; decoderId: string; backboneId: string };
const enc = (s: string) => new TextEncoder().encode(s);
const jsonl = (rows: object[]) => enc(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

const IMPORT = `mutation($i: ImportVqaBenchmarkInput!) { importVqaBenchmark(input: $i) { id kind metric
  vqa { nQuestions nImages categories { name nQuestions answerTypes } source { sha256 } stimulusSet { id } }
  vqaQuestions(first: 3) { questionId category answers choices line stimulus { externalId } } } }`;
const SUBMIT = `mutation($i: VqaEvalInput!) { submitVqaEval(input: $i) { id status params } }`;

const MC = ['red', 'green', 'blue'];
const tens = (...pairs: [string, number][]) => pairs.flatMap(([a, k]) => Array(k).fill(a));
// color: multiple choice; count: 10 references; scene: one reference (exact match).
const BENCHMARK = [
  { question_id: 'q1', stimulus_id: 'img-0', category: 'color', question: 'What color is the car?', answer_type: 'multiple_choice', answers: ['red'], choices: MC },
  { question_id: 'q2', stimulus_id: 'img-0', category: 'count', question: 'How many dogs?', answer_type: 'number', answers: tens(['2', 3], ['two', 1], ['3', 6]) },
  { question_id: 'q3', stimulus_id: 'img-1', category: 'color', question: 'What color is the wall?', answer_type: 'multiple_choice', answers: ['green'], choices: MC },
  { question_id: 'q4', stimulus_id: 'img-1', category: 'scene', question: 'Where is this?', answer_type: 'open', answers: ['kitchen'] },
  { question_id: 'q5', stimulus_id: 'img-2', category: 'scene', question: 'Where is this?', answer_type: 'open', answers: ['beach'] },
  { question_id: 'q6', stimulus_id: 'img-2', category: 'count', question: 'How many people?', answer_type: 'number', answers: tens(['1', 9], ['one', 1]) },
  { question_id: 'q7', stimulus_id: 'img-3', category: 'color', question: 'What color is the sky?', answer_type: 'multiple_choice', answers: ['blue'], choices: MC },
  { question_id: 'q8', stimulus_id: 'img-3', category: 'scene', question: 'Where is this?', answer_type: 'open', answers: ['kitchen'] },
];

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n, visibility: PUBLIC }) { id } }`, { n: uniqueName('nsd-vqa') });
  const { createSubject: subj } = await api.ok(
    `mutation($d: ID!) { createSubject(input: { datasetId: $d, name: "subj01", nVoxels: 4, rois: [{ name: "V1", voxelIndices: [0, 1] }, { name: "FFA", voxelIndices: [2, 3] }] }) { id } }`,
    { d: ds.id },
  );
  const { createStimulusSet: set } = await api.ok(`mutation($d: ID!, $s: [StimulusInput!]!) { createStimulusSet(input: { datasetId: $d, name: "nsd-shared", stimuli: $s }) { id } }`, {
    d: ds.id,
    s: Array.from({ length: 6 }, (_, i) => ({ externalId: `img-${i}` })),
  });
  const model = async (kind: string) =>
    (await api.ok(`mutation($n: String!, $k: ModelKind!) { registerModel(input: { name: $n, kind: $k, family: "brain-vqa" }) { id } }`, { n: uniqueName(kind), k: kind })).registerModel.id;
  ids = { stimulusSetId: set.id, subjectId: subj.id, decoderId: await model('DECODER'), backboneId: await model('BACKBONE') };
}, 60_000);
afterAll(() => api.close());

async function importBenchmark(rows: object[] | Uint8Array, filename = 'nsd-vqa.jsonl') {
  const artifact = await uploadArtifact(api, rows instanceof Uint8Array ? rows : jsonl(rows), filename);
  const name = uniqueName('nsd-vqa');
  return { name, artifact, body: await api.gql(IMPORT, { i: { name, stimulusSetId: ids.stimulusSetId, artifactId: artifact.id } }) };
}

async function submit(benchmarkId: string, csv: string, extra: Record<string, unknown> = {}) {
  const answers = await uploadArtifact(api, enc(csv), 'answers.csv');
  const body = await api.gql(SUBMIT, { i: { benchmarkId, modelId: ids.decoderId, subjectId: ids.subjectId, artifactId: answers.id, bootstrapSamples: 500, ...extra } });
  return { answers, body };
}

describe('VQA benchmarks and VQA_EVAL', () => {
  it('imports a benchmark, scores answers per category, ROI and overall, and ranks the run on the leaderboard', async () => {
    const { artifact, body } = await importBenchmark(BENCHMARK);
    expect(body.errors).toBeUndefined();
    const bench = body.data!.importVqaBenchmark;
    expect(bench).toMatchObject({ kind: 'VQA', metric: 'vqa_accuracy' });
    expect(bench.vqa).toMatchObject({ nQuestions: 8, nImages: 4, source: { sha256: artifact.sha256 }, stimulusSet: { id: ids.stimulusSetId } });
    expect(bench.vqa.categories).toEqual([
      { name: 'color', nQuestions: 3, answerTypes: ['multiple_choice'] },
      { name: 'count', nQuestions: 2, answerTypes: ['number'] },
      { name: 'scene', nQuestions: 3, answerTypes: ['open'] },
    ]);
    expect(bench.vqaQuestions[0]).toEqual({ questionId: 'q1', category: 'color', answers: ['red'], choices: MC, line: 1, stimulus: { externalId: 'img-0' } });

    // Whole-brain answers (q7 missing) and region-restricted ones tagged V1 / FFA.
    const csv = [
      'question_id,answer,roi',
      'q1,Red,', 'q2,two,', 'q3,red,', 'q4,the kitchen,', 'q5,kitchen,', 'q6,1,', 'q8,Kitchen.,',
      'q1,green,V1', 'q2,3,V1', 'q3,green,V1',
      'q4,kitchen,FFA',
    ].join('\n');
    const { answers, body: sub } = await submit(bench.id, csv, { idempotencyKey: uniqueName('vqa'), scoringMode: 'normalized' });
    expect(sub.errors).toBeUndefined();
    const done = await waitForRun(api, sub.data!.submitVqaEval.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.provenance.inputs).toEqual({ answers: answers.sha256, benchmark: artifact.sha256 });
    expect(done.provenance.codeVersion).toBeTruthy();
    expect(done.provenance.scoringMode).toBe('normalized');
    // The unanswered question is reported with its benchmark line, and scored as wrong.
    expect(done.provenance.missing.all).toEqual({ count: 1, first: [{ questionId: 'q7', line: 7 }] });

    const { run } = await api.ok(`query($id: ID!) { run(id: $id) { scores(metric: "vqa_accuracy") { scope value ciLow ciHigh n extra roi { name } }
      outputs { name artifact { downloadUrl } } } }`, { id: done.id });
    const by = Object.fromEntries(run.scores.map((s: any) => [s.scope, s]));
    // Hand-worked: color 1/3 (q1 right, q3 wrong, q7 missing), count 1 (q2 "two" matches 4 of 10
    // references after normalisation; q6 all 10), scene 2/3 ("the kitchen", "Kitchen." right).
    expect(by['category:color'].value).toBeCloseTo(1 / 3, 12);
    expect(by['category:count'].value).toBeCloseTo(1, 12);
    expect(by['category:scene'].value).toBeCloseTo(2 / 3, 12);
    expect(by.all.value).toBeCloseTo(2 / 3, 12); // macro over categories
    expect(by.all.extra.scoringMode).toBe('normalized');

    // Baselines: chance = uniform guess among choices / the category's answers; prior = the
    // category's most frequent reference ("blue" by alphabet for color, "1" for count, "kitchen").
    expect(by.all.extra).toMatchObject({ n: 8, missing: 1 });
    expect(by.all.extra.chance).toBeCloseTo((1 / 3 + 1 / 2 + 1 / 2) / 3, 12);
    expect(by.all.extra.prior).toBeCloseTo((1 / 3 + 1 / 2 + 2 / 3) / 3, 12);
    expect(by['category:color'].extra.chance).toBeCloseTo(1 / 3, 12);
    for (const s of run.scores) {
      expect(s.ciLow).toBeLessThanOrEqual(s.value + 1e-12);
      expect(s.ciHigh).toBeGreaterThanOrEqual(s.value - 1e-12);
    }
    // Per ROI and category.
    expect(by['roi:V1|category:color'].value).toBeCloseTo(1 / 3, 12);
    expect(by['roi:V1|category:count'].value).toBeCloseTo(0.5, 12); // q2 "3": 6 of 10 -> 1; q6 missing
    expect(by['roi:V1'].roi).toEqual({ name: 'V1' });
    expect(by['roi:FFA|category:scene'].value).toBeCloseTo(1 / 3, 12);

    const out = run.outputs.find((o: any) => o.name === 'perQuestion');
    const perQuestion: any = await (await fetch(out.artifact.downloadUrl)).json();
    expect(perQuestion.questions).toHaveLength(8);
    expect(perQuestion.questions[1]).toMatchObject({ questionId: 'q2', answers: { all: { answer: 'two', normalized: '2', accuracy: 1 } } });
    expect(perQuestion.byCategory.V1.color).toBeCloseTo(1 / 3, 12);

    const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b) { metric scope totalCount
      edges { node { rank value ciLow provenance subject { name } model { family } run { id } } } } }`, { b: bench.id });
    expect(leaderboard).toMatchObject({ metric: 'vqa_accuracy', scope: 'all', totalCount: 1 });
    expect(leaderboard.edges[0].node).toMatchObject({ rank: 1, subject: { name: 'subj01' }, model: { family: 'brain-vqa' }, run: { id: done.id } });
    expect(leaderboard.edges[0].node.value).toBeCloseTo(2 / 3, 12);
    expect(leaderboard.edges[0].node.provenance.inputs.benchmark).toBe(artifact.sha256);
    const { leaderboard: v1 } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, roi: "V1") { totalCount edges { node { value } } } }`, { b: bench.id });
    expect(v1.edges[0].node.value).toBeCloseTo((1 / 3 + 0.5 + 0) / 3, 12);

    // The same answers scored by default, as vqaEval.py does: one reference leaves an empty
    // leave-one-out subset, so every scene answer scores 0; count questions have differing
    // references and are normalised (1); multiple choice is unchanged (1/3).
    const official = await submit(bench.id, csv, { idempotencyKey: uniqueName('vqa') });
    expect(official.body.errors).toBeUndefined();
    const officialRun = await waitForRun(api, official.body.data!.submitVqaEval.id);
    expect(officialRun.provenance.scoringMode).toBe('official');
    const { run: scored } = await api.ok(`query($id: ID!) { run(id: $id) { scores(metric: "vqa_accuracy") { scope value extra } } }`, { id: officialRun.id });
    const off = Object.fromEntries(scored.scores.map((s: any) => [s.scope, s]));
    expect(off['category:scene'].value).toBe(0);
    expect(off['category:count'].value).toBeCloseTo(1, 12);
    expect(off.all.value).toBeCloseTo((1 / 3 + 1 + 0) / 3, 12);
    expect(off.all.extra.scoringMode).toBe('official');
    // Both runs on the board, each showing how it was scored.
    const { leaderboard: both } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b) { edges { node { value provenance run { id } } } } }`, { b: bench.id });
    expect(both.edges.map((e: any) => [e.node.run.id, e.node.provenance.scoringMode]).sort()).toEqual([[done.id, 'normalized'], [officialRun.id, 'official']].sort());
    const { leaderboard: v1Count } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, roi: "V1", category: "count") { scope edges { node { value } } } }`, {
      b: bench.id,
    });
    expect(v1Count.scope).toBe('roi:V1|category:count');
    expect(v1Count.edges[0].node.value).toBeCloseTo(0.5, 12);
  }, 60_000);

  it('reports every bad benchmark line in one BAD_USER_INPUT error and imports nothing', async () => {
    const before = await api.db.vqaQuestion.count();
    const rows = [
      BENCHMARK[0],
      { ...BENCHMARK[1], category: '' },
      { ...BENCHMARK[2], stimulus_id: 'img-404' },
      BENCHMARK[0],
      { ...BENCHMARK[6], answers: ['purple'] },
      { ...BENCHMARK[3], question: undefined },
    ];
    const { name, body } = await importBenchmark(rows);
    expect(body.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'artifactId',
      errorCount: 5,
      errors: [
        { line: 2, reason: 'empty category' },
        { line: 3, reason: 'unknown stimulus id "img-404" (not in the stimulus set)' },
        { line: 4, reason: 'duplicate question id "q1" (first on line 1)' },
        { line: 5, reason: 'multiple-choice answer "purple" is not among its choices' },
        { line: 6, reason: 'missing field question' },
      ],
    });
    expect(body.errors?.[0].message).toMatch(/5 problems; nothing was imported: line 2: empty category; line 3/);
    expect(await api.db.benchmark.count({ where: { name } })).toBe(0);
    expect(await api.db.vqaQuestion.count()).toBe(before);

    const latin1 = Buffer.concat([Buffer.from('question_id,stimulus_id,category,question,answer_type,answers\nq1,img-0,caf'), Buffer.from([0xe9]), Buffer.from(',Q?,open,x\n')]);
    const { body: wrongEncoding } = await importBenchmark(latin1, 'latin1.csv');
    expect(wrongEncoding.errors?.[0].extensions.errors).toEqual([{ line: 2, reason: `file is not UTF-8 at byte ${latin1.indexOf(0xe9)}` }]);
  });

  it('fails the run on unknown or duplicate question ids, with line numbers; refuses non-decoders before queueing', async () => {
    const { body } = await importBenchmark(BENCHMARK);
    const benchmarkId = body.data!.importVqaBenchmark.id;
    const { body: sub } = await submit(benchmarkId, 'question_id,answer\nq1,red\nq99,blue\nq2,2\nq1,green\n');
    const failed = await waitForRun(api, sub.data!.submitVqaEval.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error.code).toBe('BAD_INPUT');
    expect(failed.error.message).toMatch(/line 3: unknown question id "q99".*line 5: duplicate answer for question "q1" \(first on line 2\)/);
    const { run } = await api.ok(`query($id: ID!) { run(id: $id) { error { details } scores { id } } }`, { id: failed.id });
    expect(run.error.details.errors).toHaveLength(2);
    expect(run.scores).toEqual([]);

    const before = await api.db.run.count({ where: { kind: 'VQA_EVAL' } });
    const { body: wrongModel } = await submit(benchmarkId, 'question_id,answer\nq1,red\n', { modelId: ids.backboneId });
    expect(wrongModel.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
    const { body: badBoot } = await submit(benchmarkId, 'question_id,answer\nq1,red\n', { bootstrapSamples: -1 });
    expect(badBoot.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bootstrapSamples' });
    expect(await api.db.run.count({ where: { kind: 'VQA_EVAL' } })).toBe(before);
  }, 60_000);
});
