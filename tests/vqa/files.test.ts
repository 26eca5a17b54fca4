// Benchmark and answer files: every bad line reported with its number and reason.
import { checkAnswersFile, checkBenchmarkFile, csvRows, firstInvalidUtf8, parseRecords } from '../../src/compute/vqa';

const enc = (s: string) => new TextEncoder().encode(s);
const stimuli = new Set(['img-0', 'img-1']);
const jsonl = (...rows: object[]) => enc(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const q = (id: string, extra: object = {}) => ({ question_id: id, stimulus_id: 'img-0', category: 'color', question: 'What color?', answer_type: 'open', answers: ['red'], ...extra });

describe('benchmark files', () => {
  it('reads JSONL and CSV alike (camelCase or snake_case, "|"-separated lists, quoted commas and newlines)', () => {
    const fromJsonl = checkBenchmarkFile(
      jsonl(q('q1'), { questionId: 'q2', imageId: 'img-1', category: 'count', question: 'How many?', answerType: 'number', answer: 2 }),
      'jsonl',
      stimuli,
    );
    expect(fromJsonl.errors).toEqual([]);
    expect(fromJsonl.questions.map((x) => [x.questionId, x.stimulusId, x.answers, x.line])).toEqual([
      ['q1', 'img-0', ['red'], 1],
      ['q2', 'img-1', ['2'], 2],
    ]);
    const csv = 'question_id,image_id,category,question,answer_type,answers,choices\n' +
      'q1,img-0,color,"What color, exactly?",multiple_choice,red,red|green|blue\n' +
      'q2,img-1,scene,"Where is it?\nIndoors?",open,kitchen|Kitchen|the kitchen,\n' +
      'q3,img-1,scene,Is it day?,yes_no,"yes|yes|no",\n';
    const fromCsv = checkBenchmarkFile(enc(csv), 'csv', stimuli);
    expect(fromCsv.errors).toEqual([]);
    expect(fromCsv.questions.map((x) => [x.questionId, x.question, x.answers, x.choices, x.line])).toEqual([
      ['q1', 'What color, exactly?', ['red'], ['red', 'green', 'blue'], 2],
      ['q2', 'Where is it?\nIndoors?', ['kitchen', 'Kitchen', 'the kitchen'], [], 3],
      ['q3', 'Is it day?', ['yes', 'yes', 'no'], [], 5], // the quoted newline moved it to line 5
    ]);
  });

  it('reports every bad line with its reason and returns no question', () => {
    const file = enc(
      [
        JSON.stringify(q('q1')),
        JSON.stringify(q('q2', { category: undefined })), // missing field
        JSON.stringify(q('q3', { stimulus_id: 'img-404' })),
        JSON.stringify(q('q1')), // duplicate of line 1
        JSON.stringify(q('q5', { category: '  ' })),
        JSON.stringify(q('q6', { answers: ['purple'], choices: ['red', 'green'] })),
        '{ not json',
        '',
        JSON.stringify(q('q9', { answers: [] })),
        JSON.stringify(q('q10')),
      ].join('\n'),
    );
    const { questions, errors } = checkBenchmarkFile(file, 'jsonl', stimuli);
    expect(questions).toEqual([]);
    expect(errors).toEqual([
      { line: 2, reason: 'missing field category' },
      { line: 3, reason: 'unknown stimulus id "img-404" (not in the stimulus set)' },
      { line: 4, reason: 'duplicate question id "q1" (first on line 1)' },
      { line: 5, reason: 'empty category' },
      { line: 6, reason: 'multiple-choice answer "purple" is not among its choices' },
      { line: 7, reason: expect.stringMatching(/^not valid JSON/) },
      { line: 9, reason: 'missing field answers (at least one reference answer)' },
    ]);
  });

  it('reports an empty CSV category cell as empty and a short row by its line', () => {
    const csv = 'question_id,stimulus_id,category,question,answer_type,answers\nq1,img-0,,What?,open,red\nq2,img-0,color,What?\n';
    expect(checkBenchmarkFile(enc(csv), 'csv', stimuli).errors).toEqual([
      { line: 2, reason: 'empty category' },
      { line: 3, reason: '4 fields where the header has 6' },
    ]);
  });

  it('refuses a file that is not UTF-8, naming the byte', () => {
    const latin1 = Buffer.concat([Buffer.from(JSON.stringify(q('q1')) + '\n' + '{"question_id":"q2","question":"Caf'), Buffer.from([0xe9]), Buffer.from('?"}\n')]);
    const bad = latin1.indexOf(0xe9);
    expect(checkBenchmarkFile(latin1, 'jsonl', stimuli).errors).toEqual([{ line: 2, reason: `file is not UTF-8 at byte ${bad}` }]);
  });
});

describe('answer files', () => {
  const ids = new Set(['q1', 'q2', 'q3']);
  it('groups answers by ROI tag and reports unknown and duplicate question ids with line numbers', () => {
    const csv = 'question_id,answer,roi\nq1,red,\nq1,blue,V1\nq9,red,\nq2,two,\nq1,green,\nq1,red,V1\n';
    const { byRoi, errors } = checkAnswersFile(enc(csv), 'csv', ids);
    expect(errors).toEqual([
      { line: 4, reason: 'unknown question id "q9" (not in the benchmark)' },
      { line: 6, reason: 'duplicate answer for question "q1" (first on line 2)' },
      { line: 7, reason: 'duplicate answer for question "q1" (roi V1) (first on line 3)' },
    ]);
    expect([...byRoi.keys()]).toEqual(['', 'V1']);
    expect(byRoi.get('')!.get('q2')).toEqual({ answer: 'two', line: 5 });
  });

  it('keeps an empty answer (scored wrong) apart from a missing one', () => {
    const { byRoi, errors } = checkAnswersFile(jsonl({ question_id: 'q1', answer: '' }, { question_id: 'q2' }), 'jsonl', ids);
    expect(errors).toEqual([{ line: 2, reason: 'missing field answer' }]);
    expect(byRoi.get('')!.get('q1')!.answer).toBe('');
  });
});

describe('low-level readers', () => {
  it('finds the first ill-formed UTF-8 byte (overlong, surrogate, truncated)', () => {
    expect(firstInvalidUtf8(enc('héllo ✓ 😀'))).toBe(-1);
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong "/"
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).toBe(2); // surrogate
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xe2, 0x9c]))).toBe(1); // truncated
  });

  it('parses quoted CSV with doubled quotes and CRLF, and reports an unclosed quote', () => {
    expect(csvRows('a,b\r\n"x ""y""",z\r\n').rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x "y"', 'z'] },
    ]);
    expect(parseRecords(enc('a,b\n"open,1\n'), 'csv').errors).toEqual([{ line: 2, reason: 'a quoted field is never closed' }]);
  });
});
