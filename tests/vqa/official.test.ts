// VQA accuracy against the official evaluation itself: the cases of
// tests/fixtures/vqa/official-cases.json were scored by a Python 3 port of vqaEval.py
// (scripts/fixtures/vqa_official.py, prints changed only), quirks included.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { officialVqaAccuracy } from '../../src/compute/vqa/official';

const table = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'vqa', 'official-cases.json'), 'utf8')) as {
  cases: { answer: string; references: string[]; accuracy: number }[];
};

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
