// Checks a decoder's answers file against a benchmark's question ids. Unknown question ids and
// two answers for one question (and ROI) are errors: guessing which to keep would change scores.
// Questions without an answer are not errors; the scorer counts them wrong and lists them.
//
// Fields: question_id, answer, roi (optional: the region a region-restricted decoder read).
import { firstKey, textField } from './fields';
import { parseRecords, type LineError, type TextFormat } from './records';

export interface Answer {
  answer: string;
  line: number;
}

export interface AnswersCheck {
  /** ROI tag ('' for whole-brain answers) -> question id -> answer. */
  byRoi: Map<string, Map<string, Answer>>;
  errors: LineError[];
}

export function checkAnswersFile(bytes: Uint8Array, format: TextFormat, questionIds: ReadonlySet<string>): AnswersCheck {
  const parsed = parseRecords(bytes, format);
  const errors = [...parsed.errors];
  const byRoi = new Map<string, Map<string, Answer>>();
  for (const rec of parsed.records) {
    const questionId = textField(rec, 'questionid', 'question_id', errors);
    const key = firstKey(rec, ['answer', 'prediction']);
    const raw = rec.fields[key];
    if (raw === undefined || raw === null) errors.push({ line: rec.line, reason: 'missing field answer' });
    else if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')
      errors.push({ line: rec.line, reason: 'answer must be text' });
    const roiValue = rec.fields.roi;
    const roi = roiValue === undefined || roiValue === null ? '' : String(roiValue).trim();
    if (questionId === undefined || raw === undefined || raw === null || typeof raw === 'object') continue;
    if (!questionIds.has(questionId)) {
      errors.push({ line: rec.line, reason: `unknown question id ${JSON.stringify(questionId)} (not in the benchmark)` });
      continue;
    }
    const group = byRoi.get(roi) ?? new Map<string, Answer>();
    byRoi.set(roi, group);
    const first = group.get(questionId);
    if (first) {
      errors.push({ line: rec.line, reason: `duplicate answer for question ${JSON.stringify(questionId)}${roi ? ` (roi ${roi})` : ''} (first on line ${first.line})` });
      continue;
    }
    // An empty answer is an answer (scored wrong), not a missing one.
    group.set(questionId, { answer: String(raw), line: rec.line });
  }
  if (!parsed.records.length && !errors.length) errors.push({ line: 1, reason: 'the file holds no answers' });
  errors.sort((a, b) => a.line - b.line);
  return { byRoi, errors };
}

/** "line 3: reason; line 7: reason ..." for messages, the first `max` of them. */
export function describeErrors(errors: LineError[], max = 10): string {
  const shown = errors.slice(0, max).map((e) => `line ${e.line}: ${e.reason}`).join('; ');
  return errors.length > max ? `${shown}; ... (${errors.length - max} more)` : shown;
}
