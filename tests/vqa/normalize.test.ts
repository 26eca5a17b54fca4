// Official VQA normalisation and accuracy, on cases worked by hand from vqaEval.py.
import { accuracyOf, baselines, scorable, scoreAnswer, scoringRule, vqaAccuracy } from '../../src/compute/vqa/accuracy';
import { normalizeAnswer, processPunctuation } from '../../src/compute/vqa/normalize';

describe('normalizeAnswer (official VQA processPunctuation + processDigitArticle)', () => {
  it.each([
    ['two', '2'],
    ['Ten', '10'],
    ['none', '0'],
    ['the dog', 'dog'],
    ['A Dog', 'dog'],
    ['an apple', 'apple'],
    ['isnt', "isn't"],
    ["isn't", "isn't"],
    ['dont', "don't"],
    ['Im', 'im'], // upstream key "Im" has a capital and never matches after lower-casing
    ['1,000', '1000'], // a comma between digits glues every punctuation mark
    ['3.5', '3.5'], // a period followed by a digit stays
    ['Yes.', 'yes'],
    ['  A  Dog!  ', 'dog'],
    ['black-and-white', 'black and white'],
    ['red, white', 'red white'], // the mark touches a space: deleted, not spaced
    ['50/50', '50 50'],
    ['t-shirt', 't shirt'],
    ['on\tthe\ntable', 'on table'],
    ['what?', 'what'],
    ["o'clock", "o'clock"],
  ])('%j -> %j', (raw, expected) => {
    expect(normalizeAnswer(raw)).toBe(expected);
  });

  it('tests the original text for touching spaces, as upstream', () => {
    // "(" touches no space, ")" does not either, but "," does: only the comma is deleted.
    expect(processPunctuation('(a), b')).toBe(' a  b');
  });
});

describe('accuracy', () => {
  const ten = (matching: string, k: number, other = 'cat') => [...Array(k).fill(matching), ...Array(10 - k).fill(other)];

  it('averages min(matches / 3, 1) over the 10 leave-one-out subsets', () => {
    // 3 of 10 say "2": leaving out one of them gives 2/3, leaving out another gives 1.
    expect(vqaAccuracy('2', ten('2', 3))).toBeCloseTo((3 * (2 / 3) + 7 * 1) / 10, 12); // 0.9
    expect(vqaAccuracy('2', ten('2', 4))).toBe(1);
    expect(vqaAccuracy('2', ten('2', 1))).toBeCloseTo(9 / 30, 12); // 0.3
    expect(vqaAccuracy('2', ten('2', 2))).toBeCloseTo((2 * (1 / 3) + 8 * (2 / 3)) / 10, 12); // 0.6
    expect(vqaAccuracy('dog', ten('2', 3))).toBe(0);
  });

  it('normalises the answer before matching ("two" earns the "2" references)', () => {
    const q = scorable({ category: 'count', answers: ten('2', 3), choices: [] });
    expect(scoreAnswer('two', q)).toBeCloseTo(0.9, 12);
    expect(scoreAnswer('Two.', q)).toBeCloseTo(0.9, 12);
  });

  it('uses exact match with one reference, and with few identical references caps as the formula says', () => {
    const one = scorable({ category: 'animal', answers: ['dog'], choices: [] });
    expect(scoringRule(one)).toBe('exact');
    expect(scoreAnswer('The dog', one)).toBe(1);
    expect(scoreAnswer('dogs', one)).toBe(0);
    // Two identical references: leaving either out leaves one match, 1/3.
    expect(scoreAnswer('cat', scorable({ category: 'animal', answers: ['cat', 'cat'], choices: [] }))).toBeCloseTo(1 / 3, 12);
  });

  it('scores multiple choice as 1 for the reference choice, 0 otherwise', () => {
    const q = scorable({ category: 'color', answers: ['Red'], choices: ['red', 'green', 'blue'] });
    expect(scoringRule(q)).toBe('multiple_choice');
    expect(scoreAnswer('RED', q)).toBe(1);
    expect(scoreAnswer('blue', q)).toBe(0);
    expect(scoreAnswer('purple', q)).toBe(0);
  });
});

describe('baselines', () => {
  it('chance is the expected accuracy of a uniform guess; prior the category\'s most frequent answer', () => {
    const qs = [
      { category: 'color', answers: ['red'], choices: [] },
      { category: 'color', answers: ['Red'], choices: [] },
      { category: 'color', answers: ['blue'], choices: [] },
      { category: 'count', answers: ['2'], choices: ['1', '2', 'three', 'four'] },
      { category: 'yesno', answers: ['no', 'no', 'no', 'no'], choices: [] },
      { category: 'yesno', answers: ['yes', 'yes', 'yes', 'yes'], choices: [] },
    ].map(scorable);
    const b = baselines(qs);
    // color: vocabulary {red, blue}; one of two candidates is right.
    expect(b.chance.slice(0, 3)).toEqual([0.5, 0.5, 0.5]);
    expect(b.priorAnswer.get('color')).toBe('red');
    expect(b.prior.slice(0, 3)).toEqual([1, 1, 0]);
    // multiple choice: 1 / #choices.
    expect(b.chance[3]).toBe(0.25);
    expect(b.prior[3]).toBe(1); // the only count answer is "2"
    // yes/no from the file alone: two candidate answers, tie broken alphabetically ("no").
    expect(b.chance.slice(4)).toEqual([0.5, 0.5]);
    expect(b.priorAnswer.get('yesno')).toBe('no');
    expect(b.prior.slice(4)).toEqual([1, 0]);
    expect(accuracyOf('no', qs[4])).toBe(1);
  });
});
