// VQA accuracy against the official evaluation itself: the cases of
// tests/fixtures/vqa/official-cases.json were scored by a Python 3 port of vqaEval.py
// (scripts/fixtures/vqa_official.py, prints changed only), quirks included.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { officialVqaAccuracy } from '../../src/compute/vqa/official';
import { baselines, scorable, VqaScorer } from '../../src/compute/vqa';

const table = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'vqa', 'official-cases.json'), 'utf8')) as {
  cases: { answer: string; references: string[]; accuracy: number }[];
  baselines: { questions: { category: string; references: string[] }[]; chance: number[]; prior: number[]; priorAnswer: Record<string, string> };
};
const round = (x: number) => Math.round(x * 1e12) / 1e12;

describe('official VQA accuracy (vqaEval.py)', () => {
  it('has a table of 60+ cases', () => expect(table.cases.length).toBeGreaterThanOrEqual(60));
  it.each(table.cases.map((c, i) => [i, JSON.stringify(c.answer), c] as const))('case %i: answer %s', (_i, _a, c) => {
    // The script rounds to 15 decimals (n = 15); the kernel's value rounds to the same digits.
    expect(Math.round(officialVqaAccuracy(c.answer, c.references) * 1e13) / 1e13).toBe(Math.round(c.accuracy * 1e13) / 1e13);
  });
  it('reproduces the quirks named in the script', () => {
    expect(officialVqaAccuracy('Yes.', Array(10).fill('yes'))).toBe(0); // identical references: no normalisation
    expect(officialVqaAccuracy('yes', ['yes'])).toBe(0); // one reference: an empty leave-one-out subset
    expect(officialVqaAccuracy('yes' + '.'.repeat(40), [...Array(9).fill('yes'), 'no'])).toBe(0); // 32 periods stripped
    expect(officialVqaAccuracy('yes' + '.'.repeat(32), [...Array(9).fill('yes'), 'no'])).toBe(1);
    expect(officialVqaAccuracy('\ufeffyes', [...Array(9).fill('yes'), 'no'])).toBe(0); // str.strip keeps U+FEFF
  });
});

describe('chance and prior beside official scores', () => {
  const b = table.baselines;
  const questions = b.questions.map((q, i) => ({ ...scorable({ category: q.category, answers: q.references, choices: [] as string[] }), questionId: `q${i}`, stimulusId: `img${i % 5}` }));

  it('are scored by the official rules in official mode, as the script scores them', () => {
    const scorer = new VqaScorer(questions, { nBootstrap: 0, seed: 0, mode: 'official' });
    expect(scorer.chance.map(round)).toEqual(b.chance.map(round));
    expect(scorer.prior.map(round)).toEqual(b.prior.map(round));
    expect(Object.fromEntries(scorer.priorAnswer)).toEqual(b.priorAnswer);
    // The summaries that runs and leaderboards show carry them: category means, macro overall.
    const summary = scorer.score(new Map());
    const categories = [...new Set(b.questions.map((q) => q.category))];
    const meanOf = (values: number[], c: string) => {
      const v = values.filter((_, i) => b.questions[i].category === c);
      return v.reduce((s, x) => s + x, 0) / v.length;
    };
    for (const c of categories) {
      expect(summary.categories.get(c)!.chance).toBeCloseTo(meanOf(b.chance, c), 12);
      expect(summary.categories.get(c)!.prior).toBeCloseTo(meanOf(b.prior, c), 12);
    }
    expect(summary.overall.chance).toBeCloseTo(categories.reduce((s, c) => s + meanOf(b.chance, c), 0) / categories.length, 12);
  });

  it('stay on the normalised rules in normalized mode, where they differ on this benchmark', () => {
    const scorer = new VqaScorer(questions, { nBootstrap: 0, seed: 0, mode: 'normalized' });
    const normalized = baselines(questions);
    expect(scorer.chance).toEqual(normalized.chance);
    expect(scorer.prior).toEqual(normalized.prior);
    expect(scorer.priorAnswer.get('other')).toBe('dog'); // official: "Dog." (ten written so)
    expect(scorer.prior.map(round)).not.toEqual(b.prior.map(round));
    expect(scorer.chance.map(round)).not.toEqual(b.chance.map(round));
  });
});
