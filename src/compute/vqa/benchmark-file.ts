// Checks a VQA benchmark file (NSD-VQA style) line by line and returns either every question or
// every problem, so an import is all-or-nothing and a lab fixes its file in one pass.
//
// Fields (JSONL keys or CSV header, snake_case or camelCase): question_id, stimulus_id (or
// image_id: an externalId of the stimulus set), category, question, answer_type, answers (list;
// "answer" for a single one; CSV: "|"-separated), choices (optional list, multiple choice).
import { normalizeAnswer } from './normalize';
import { firstKey, listField, textField } from './fields';
import { parseRecords, type LineError, type TextFormat } from './records';

export interface BenchmarkQuestion {
  questionId: string;
  stimulusId: string;
  category: string;
  question: string;
  answerType: string;
  answers: string[];
  choices: string[];
  line: number;
}

export interface BenchmarkCheck {
  questions: BenchmarkQuestion[];
  errors: LineError[];
}

export function checkBenchmarkFile(bytes: Uint8Array, format: TextFormat, knownStimuli: ReadonlySet<string>): BenchmarkCheck {
  const parsed = parseRecords(bytes, format);
  const errors = [...parsed.errors];
  const questions: BenchmarkQuestion[] = [];
  const firstLine = new Map<string, number>();
  for (const rec of parsed.records) {
    const before = errors.length;
    const questionId = textField(rec, 'questionid', 'question_id', errors);
    const stimulusId = textField(rec, firstKey(rec, ['stimulusid', 'imageid']), 'stimulus_id', errors);
    const category = textField(rec, 'category', 'category', errors);
    const question = textField(rec, 'question', 'question', errors);
    const answerType = textField(rec, 'answertype', 'answer_type', errors);
    const answers = listField(rec, firstKey(rec, ['answers', 'answer']), 'answers', errors);
    const choices = listField(rec, 'choices', 'choices', errors);
    if (answers && answers.length === 0) errors.push({ line: rec.line, reason: 'missing field answers (at least one reference answer)' });
    if (stimulusId !== undefined && !knownStimuli.has(stimulusId))
      errors.push({ line: rec.line, reason: `unknown stimulus id ${JSON.stringify(stimulusId)} (not in the stimulus set)` });
    if (questionId !== undefined) {
      const first = firstLine.get(questionId);
      if (first !== undefined) errors.push({ line: rec.line, reason: `duplicate question id ${JSON.stringify(questionId)} (first on line ${first})` });
      else firstLine.set(questionId, rec.line);
    }
    if (choices && choices.length === 1) errors.push({ line: rec.line, reason: 'choices lists a single option; give at least two' });
    if (answers?.length && choices && choices.length > 1) {
      const allowed = new Set(choices.map(normalizeAnswer));
      const outside = answers.filter((a) => !allowed.has(normalizeAnswer(a)));
      if (outside.length)
        errors.push({ line: rec.line, reason: `multiple-choice answer ${outside.map((a) => JSON.stringify(a)).join(', ')} is not among its choices` });
    }
    if (errors.length === before)
      questions.push({ questionId: questionId!, stimulusId: stimulusId!, category: category!, question: question!, answerType: answerType!, answers: answers!, choices: choices!, line: rec.line });
  }
  if (!parsed.records.length && !errors.length) errors.push({ line: 1, reason: 'the file holds no questions' });
  errors.sort((a, b) => a.line - b.line);
  return { questions: errors.length ? [] : questions, errors };
}
