// The scorer's summaries and bootstrap CIs against a plain reference loop over the same seeded
// resamples of images (each drawn image brings all of its questions).
import { bootstrapIndices } from '../../src/compute/stats';
import { Rng } from '../../src/compute/random';
import { scorable, VqaScorer, type QuestionInput } from '../../src/compute/vqa';

/** numpy.percentile's default (linear interpolation), written out. */
function npPercentile(values: number[], q: number): number {
  const s = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

/** A benchmark of 30 images, uneven categories (one appears on few images), random answers. */
function synthetic(seed: number) {
  const rng = new Rng(seed);
  const categories = ['color', 'count', 'rare', 'scene'];
  const questions: QuestionInput[] = [];
  const answers = new Map<string, string>();
  for (let img = 0; img < 30; img++) {
    for (const category of categories) {
      if (category === 'rare' && img % 7 !== 0) continue;
      const nq = 1 + rng.int(3);
      for (let k = 0; k < nq; k++) {
        const id = `i${img}-${category}-${k}`;
        const refs = Array.from({ length: 10 }, () => ['a1', 'b2', 'c3'][rng.int(3)]);
        const choices = category === 'color' ? ['a1', 'b2', 'c3'] : [];
        questions.push({ ...scorable({ category, answers: category === 'color' ? [refs[0]] : refs, choices }), questionId: id, stimulusId: `img-${String(img).padStart(2, '0')}` });
        if (rng.uniform() < 0.9) answers.set(id, ['a1', 'b2', 'c3'][rng.int(3)]);
      }
    }
  }
  return { questions, answers, categories };
}

describe('VqaScorer', () => {
  const B = 400;
  const { questions, answers, categories } = synthetic(7);
  const scorer = new VqaScorer(questions, { nBootstrap: B, seed: 11 });
  const result = scorer.score(answers);

  it('reports per-category means and their macro average; unanswered questions count as wrong', () => {
    const acc = new Map(result.questions.map((r) => [r.questionId, r.accuracy]));
    const means = categories.map((c) => {
      const inCat = questions.filter((q) => q.category === c);
      return inCat.reduce((s, q) => s + acc.get(q.questionId)!, 0) / inCat.length;
    });
    categories.forEach((c, i) => expect(result.categories.get(c)!.value).toBeCloseTo(means[i], 12));
    expect(result.overall.value).toBeCloseTo(means.reduce((a, b) => a + b) / means.length, 12);
    const unanswered = questions.filter((q) => !answers.has(q.questionId));
    expect(unanswered.length).toBeGreaterThan(0);
    expect(result.overall.nMissing).toBe(unanswered.length);
    for (const q of unanswered) expect(acc.get(q.questionId)).toBe(0);
  });

  it('matches a plain loop over the same image resamples', () => {
    const images = [...new Set(questions.map((q) => q.stimulusId))].sort();
    const acc = new Map(result.questions.map((r) => [r.questionId, r.accuracy]));
    const draws = bootstrapIndices(images.length, B, 11);
    const perCategory: number[][] = categories.map(() => []);
    const macro: number[] = [];
    for (const draw of draws) {
      const picked: QuestionInput[] = [];
      for (const i of draw) for (const q of questions) if (q.stimulusId === images[i]) picked.push(q);
      const means: number[] = [];
      categories.forEach((c, k) => {
        const inCat = picked.filter((q) => q.category === c);
        const m = inCat.length ? inCat.reduce((s, q) => s + acc.get(q.questionId)!, 0) / inCat.length : NaN;
        perCategory[k].push(m);
        if (!Number.isNaN(m)) means.push(m);
      });
      macro.push(means.reduce((a, b) => a + b, 0) / means.length);
    }
    expect(result.overall.ciLow).toBeCloseTo(npPercentile(macro, 2.5), 12);
    expect(result.overall.ciHigh).toBeCloseTo(npPercentile(macro, 97.5), 12);
    categories.forEach((c, k) => {
      const s = result.categories.get(c)!;
      expect(s.ciLow).toBeCloseTo(npPercentile(perCategory[k], 2.5), 12);
      expect(s.ciHigh).toBeCloseTo(npPercentile(perCategory[k], 97.5), 12);
      expect(s.ciLow!).toBeLessThanOrEqual(s.value);
      expect(s.ciHigh!).toBeGreaterThanOrEqual(s.value);
    });
    // The rare category is absent from some resamples; those are left out of its interval.
    expect(perCategory[categories.indexOf('rare')].some(Number.isNaN)).toBe(true);
  });

  it('puts chance and prior beside every number, and gives no CI without resamples', () => {
    const color = result.categories.get('color')!;
    expect(color.chance).toBeCloseTo(1 / 3, 12); // three choices
    for (const s of [result.overall, ...result.categories.values()]) {
      expect(s.chance).toBeGreaterThan(0);
      expect(s.prior).toBeGreaterThanOrEqual(0);
    }
    const plain = new VqaScorer(questions, { nBootstrap: 0, seed: 0 }).score(answers);
    expect(plain.overall).toMatchObject({ value: result.overall.value, ciLow: null, ciHigh: null });
  });

  it('is perfect for the references themselves and never below 0', () => {
    const truth = new Map(questions.map((q) => [q.questionId, q.references[0]]));
    const best = scorer.score(truth);
    expect(best.categories.get('color')!.value).toBe(1);
    expect(best.overall.value).toBeGreaterThan(result.overall.value);
  });
});
