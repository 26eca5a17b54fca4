// Design tables and the repeat rule, on hand-made designs whose grouping is known by construction.
import { DesignError, parseDesign, planRepeats } from '../../src/domain/session-design';

describe('parseDesign', () => {
  it('reads CSV/TSV with or without trial numbers and JSON arrays of ids or objects', () => {
    expect(parseDesign('trial,stimulus\n2,b\n0,a\n', 'd.csv')).toEqual(['a', null, 'b']);
    expect(parseDesign('externalId\na\n\nb\n', 'd.csv')).toEqual(['a', 'b']);
    expect(parseDesign('stimulus\ttrial\nx\t1\n', 'd.tsv')).toEqual([null, 'x']);
    expect(parseDesign('["a", null, "b"]', 'd.json')).toEqual(['a', null, 'b']);
    expect(parseDesign('[{"trial": 1, "stimulus": "a"}]', 'd.json')).toEqual([null, 'a']);
  });

  it('names the file and place of what it cannot use', () => {
    expect(() => parseDesign('trial,image\n0,a', 'd.csv')).toThrow(/d\.csv: header row is "trial,image"; it needs a "stimulus"/);
    expect(() => parseDesign('trial,stimulus\n0,a\n0,b', 'd.csv')).toThrow(/d\.csv: line 3 lists trial 0 a second time/);
    expect(() => parseDesign('trial,stimulus\n-1,a', 'd.csv')).toThrow(/line 2: trial "-1" is not a trial number/);
    expect(() => parseDesign('[1, 2]', 'd.json')).toThrow(/element 0 is 1/);
    expect(() => parseDesign('{"a": 1}', 'd.json')).toThrow(DesignError);
    expect(() => parseDesign('', 'd.csv')).toThrow(/d\.csv: is empty/);
  });
});

describe('parseDesign: one table spanning sessions', () => {
  const csv = 'session,trial,stimulus\n1,0,a\n1,1,b\n02,1,c\n2,0,a\n';
  it('picks the named session\'s rows, trials numbered within it; sessions match as numbers too', () => {
    expect(parseDesign(csv, 'design.csv', '1')).toEqual(['a', 'b']);
    expect(parseDesign(csv, 'design.csv', '2')).toEqual(['a', 'c']);
    expect(parseDesign(csv, 'design.csv', '01')).toEqual(['a', 'b']);
    expect(parseDesign('[{"session": "s1", "stimulus": "a"}, {"session": "s2", "stimulus": "b"}, {"session": "s1", "stimulus": "c"}]', 'd.json', 's1')).toEqual(['a', 'c']);
  });

  it('asks which session when the table spans several, and refuses a session it does not list or cannot pick', () => {
    expect(() => parseDesign(csv, 'design.csv')).toThrow(/design\.csv: spans sessions \("1", "02", "2"\); say which one this session's betas are \(designSession\)/);
    expect(() => parseDesign(csv, 'design.csv', '3')).toThrow(/has no rows of session "3"; it lists sessions "1", "02", "2"/);
    expect(() => parseDesign('stimulus\na\n', 'd.csv', '1')).toThrow(/d\.csv: has no session column, so it cannot pick session "1"/);
  });
});

describe('planRepeats', () => {
  const files = (...trials: (string | null)[][]) => trials.map((t, i) => ({ file: `s${i + 1}.csv`, trials: t }));

  it('keeps the first n presentations in session and trial order, n the most common count', () => {
    const plan = planRepeats(files(['a', 'b', 'a', null], ['b', 'a', 'c', 'c']), ['a', 'b', 'c']);
    // a: 3 presentations, b and c: 2 -> n = 2; a's third (session 2, trial 1) is left out.
    expect(plan.nRepeats).toBe(2);
    expect(plan.extraPresentations).toBe(1);
    expect(Array.from(plan.slots[0])).toEqual([0, 1, 3, -1]);
    expect(Array.from(plan.slots[1])).toEqual([4, -1, 2, 5]);
    // Ties between counts go to the larger.
    expect(() => planRepeats(files(['a', 'a', 'b']), ['a', 'b'])).toThrow(/fewer than 2 times: b \(1\)/);
  });

  it('refuses images shown fewer times and unknown stimuli by name, or uses fewer repeats when asked', () => {
    const design = files(['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c']);
    expect(() => planRepeats(design, ['a', 'b', 'c'])).toThrow(/show 1 image\(s\) fewer than 3 times: c \(2\); ask for nRepeats: 2/);
    expect(planRepeats(design, ['a', 'b', 'c'], 2)).toMatchObject({ nRepeats: 2, extraPresentations: 2 });
    expect(() => planRepeats(design, ['a', 'b', 'c', 'd'], 2)).toThrow(/d \(0\); import a stimulus set/);
    expect(() => planRepeats(files(['a', 'zz']), ['a'])).toThrow(/s1\.csv: names 1 stimulus presentation\(s\) not in the stimulus set: "zz" \(trial 1\)/);
  });
});
