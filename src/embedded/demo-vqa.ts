// The decoding demo: a VQA benchmark file over the demo's images (three categories: an open colour
// question, a multiple-choice shape question and an open yes/no question, ten identical references
// per open question as in VQA v2), imported with importVqaBenchmark, and the answer files of two
// decoders generated with a known accuracy per category (exactly round(p * n) right answers per
// category, the rest wrong), each scored by VQA_EVAL on the benchmark's leaderboard, where chance
// and prior baselines stand beside every number.
import type { Services } from '../services';
import type { Log } from '../log';
import { domainContext } from '../domain/context';
import { storeArtifact } from '../domain/artifacts';
import { registerModel } from '../domain/catalog';
import { importVqaBenchmark, submitVqaEval } from '../domain/vqa';
import { Rng } from '../compute/random';
import { DEMO_DATASET } from './demo-data';
import { DEMO_IMAGE_SET, demoImages } from './demo-images';
import { existingRunKeys, logQueued } from './demo-common';

export const DEMO_VQA_BENCHMARK = 'demo-images-vqa';
export const DEMO_VQA_SUBJECT = 'subj01';
const N_IMAGES = 120;
const COLOURS = ['red', 'green', 'blue', 'yellow'];
const SHAPES = ['disc', 'square', 'bar'];
const N_REFERENCES = 10;

/** Accuracy per category of the two demo decoders (each category has one question per image). */
export const DEMO_DECODERS = [
  { name: 'demo-decoder-weak', description: 'Answers generated with accuracy 0.4 (colour), 0.5 (shape), 0.6 (yes/no)', accuracy: { colour: 0.4, shape: 0.5, 'yes/no': 0.6 } },
  { name: 'demo-decoder-strong', description: 'Answers generated with accuracy 0.9 (colour), 0.85 (shape), 0.95 (yes/no)', accuracy: { colour: 0.9, shape: 0.85, 'yes/no': 0.95 } },
] as const;
export type DemoVqaCategory = keyof (typeof DEMO_DECODERS)[number]['accuracy'];

interface Question {
  question_id: string;
  stimulus_id: string;
  category: DemoVqaCategory;
  question: string;
  answer_type: string;
  answers: string[];
  choices?: string[];
}

/** One question per image and category, about what the image shows (its concepts: shape, colour). */
export function demoVqaQuestions(): Question[] {
  const images = demoImages(N_IMAGES);
  const rng = new Rng('demo vqa questions');
  return images.flatMap((im) => {
    const [shape, colour] = im.concepts;
    // Half the yes/no questions name the image's colour, half another one.
    const asked = rng.uniform() < 0.5 ? colour : COLOURS[(COLOURS.indexOf(colour) + 1 + rng.int(COLOURS.length - 1)) % COLOURS.length];
    const id = im.externalId;
    return [
      { question_id: `${id}-colour`, stimulus_id: id, category: 'colour', question: 'What colour is the shape?', answer_type: 'other', answers: Array(N_REFERENCES).fill(colour) },
      { question_id: `${id}-shape`, stimulus_id: id, category: 'shape', question: 'Which shape is shown?', answer_type: 'multiple choice', answers: [shape], choices: SHAPES },
      { question_id: `${id}-yesno`, stimulus_id: id, category: 'yes/no', question: `Is the shape ${asked}?`, answer_type: 'yes/no', answers: Array(N_REFERENCES).fill(asked === colour ? 'yes' : 'no') },
    ] satisfies Question[];
  });
}

/** A wrong answer of the question's kind: the next colour, the next shape, the other of yes/no. */
function wrongAnswer(q: Question): string {
  const right = q.answers[0];
  if (q.category === 'colour') return COLOURS[(COLOURS.indexOf(right) + 1) % COLOURS.length];
  if (q.category === 'shape') return SHAPES[(SHAPES.indexOf(right) + 1) % SHAPES.length];
  return right === 'yes' ? 'no' : 'yes';
}

/** A decoder's answers: per category exactly round(p * n) questions (a seeded choice) answered right. */
export function demoDecoderAnswers(decoder: (typeof DEMO_DECODERS)[number], questions = demoVqaQuestions()) {
  const out: { question_id: string; answer: string }[] = [];
  for (const category of Object.keys(decoder.accuracy) as DemoVqaCategory[]) {
    const qs = questions.filter((q) => q.category === category);
    const nRight = Math.round(decoder.accuracy[category] * qs.length);
    const order = new Rng(`${decoder.name}:${category}`).permutation(qs.length);
    const right = new Set(Array.from(order.subarray(0, nRight)));
    qs.forEach((q, i) => out.push({ question_id: q.question_id, answer: right.has(i) ? q.answers[0] : wrongAnswer(q) }));
  }
  return { answers: out, expected: Object.fromEntries((Object.keys(decoder.accuracy) as DemoVqaCategory[]).map((c) => [c, Math.round(decoder.accuracy[c] * N_IMAGES) / N_IMAGES])) };
}

const jsonl = (rows: object[]) => Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

/** Imports the benchmark file and registers the two decoders with their answer files; false when there already. */
export async function seedVqaDemo(services: Services, log: Log): Promise<boolean> {
  if (await services.db.benchmark.findUnique({ where: { name: DEMO_VQA_BENCHMARK } })) return false;
  const lab = services.defaultLabId;
  const set = await services.db.stimulusSet.findFirst({ where: { name: DEMO_IMAGE_SET, dataset: { labId: lab, name: DEMO_DATASET } } });
  if (!set) return false;
  const ctx = domainContext(services);
  const questions = demoVqaQuestions();
  const file = await storeArtifact(services, jsonl(questions), { filename: `${DEMO_VQA_BENCHMARK}.jsonl`, labId: lab });
  await importVqaBenchmark(ctx, {
    name: DEMO_VQA_BENCHMARK,
    description: `Questions about the ${N_IMAGES} demo images: their colour (open), their shape (multiple choice) and yes/no questions about their colour`,
    stimulusSetId: set.id,
    artifactId: file.id,
  });
  for (const d of DEMO_DECODERS) {
    await registerModel(ctx, { name: d.name, kind: 'DECODER', family: 'demo', description: d.description, visibility: 'PUBLIC' });
    await storeArtifact(services, jsonl(demoDecoderAnswers(d, questions).answers), { filename: `${d.name}-answers.jsonl`, labId: lab });
  }
  log('info', 'VQA demo seeded', { benchmark: DEMO_VQA_BENCHMARK, questions: questions.length, decoders: DEMO_DECODERS.map((d) => d.name) });
  return true;
}

const runKey = (decoder: string) => `demo-vqa-${decoder}`;

/** Queues one VQA_EVAL per decoder (its answers file, the benchmark, subj01 of the demo dataset). */
export async function queueVqaDemo(services: Services, log: Log): Promise<boolean> {
  const lab = services.defaultLabId;
  const benchmark = await services.db.benchmark.findUnique({ where: { name: DEMO_VQA_BENCHMARK } });
  const subject = await services.db.subject.findFirst({ where: { name: DEMO_VQA_SUBJECT, dataset: { labId: lab, name: DEMO_DATASET } } });
  if (!benchmark || !subject) return true;
  const keys = DEMO_DECODERS.map((d) => runKey(d.name));
  const present = await existingRunKeys(services, keys);
  const ctx = domainContext(services);
  const queued: string[] = [];
  for (const d of DEMO_DECODERS) {
    if (present.has(runKey(d.name))) continue;
    const model = await services.db.model.findUnique({ where: { labId_name: { labId: lab, name: d.name } } });
    const answers = await services.db.artifact.findFirst({ where: { labId: lab, filename: `${d.name}-answers.jsonl` }, orderBy: { createdAt: 'desc' } });
    if (!model || !answers) continue;
    await submitVqaEval(ctx, { benchmarkId: benchmark.id, modelId: model.id, subjectId: subject.id, artifactId: answers.id, bootstrapSamples: 1000, idempotencyKey: runKey(d.name) });
    queued.push(runKey(d.name));
  }
  logQueued(log, 'demo VQA evaluations', queued, [...present], { benchmark: DEMO_VQA_BENCHMARK });
  return true;
}
