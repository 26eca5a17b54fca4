// Per-question accuracy and the two baselines shown beside every VQA number.
//
// Scoring rule of a question (decided by its shape, never by a category or answer-type list):
// - it has choices        -> multiple choice: 1 when the answer equals a reference, else 0;
// - one reference answer  -> exact match after normalisation;
// - several references    -> VQA accuracy min(#matching references / 3, 1) in the official
//   form: averaged over the leave-one-out subsets of the references (the 10 subsets of 9 for
//   VQA's 10 annotators). With n identical references a correct answer scores
//   min((n - 1) / 3, 1): 1 from n >= 4, but only 1/3 with 2 and 2/3 with 3 references.
import { normalizeAnswer } from './normalize';

export type ScoringRule = 'multiple_choice' | 'exact' | 'vqa';

/** A question ready to score: references and choices already normalised. */
export interface ScorableQuestion {
  category: string;
  references: string[];
  choices: string[];
}

/** Normalises a stored question's references and choices once, before scoring many answers. */
export function scorable<T extends { category: string; answers: string[]; choices: string[] }>(q: T): T & ScorableQuestion {
  return { ...q, references: q.answers.map(normalizeAnswer), choices: [...new Set(q.choices.map(normalizeAnswer))] };
}

export function scoringRule(q: { references: string[]; choices: string[] }): ScoringRule {
  if (q.choices.length > 0) return 'multiple_choice';
  return q.references.length === 1 ? 'exact' : 'vqa';
}

/** Leave-one-out VQA accuracy of a normalised answer against normalised references. */
export function vqaAccuracy(answer: string, references: string[]): number {
  const matches = references.filter((r) => r === answer).length;
  if (matches === 0) return 0;
  let total = 0;
  // Leaving out a matching reference leaves matches - 1; leaving out any other leaves matches.
  for (const r of references) total += Math.min(1, (r === answer ? matches - 1 : matches) / 3);
  return total / references.length;
}

/** Accuracy of a normalised answer on one question. */
export function accuracyOf(answer: string, q: { references: string[]; choices: string[] }): number {
  const rule = scoringRule(q);
  if (rule === 'vqa') return vqaAccuracy(answer, q.references);
  return q.references.includes(answer) ? 1 : 0;
}

/** Scores a raw (unnormalised) answer. */
export function scoreAnswer(raw: string, q: { references: string[]; choices: string[] }): number {
  return accuracyOf(normalizeAnswer(raw), q);
}

export interface Baselines {
  /** Per question, in input order. */
  chance: number[];
  prior: number[];
  /** Most frequent normalised reference answer of each category. */
  priorAnswer: Map<string, string>;
}

/**
 * Chance: the expected accuracy of an answer drawn uniformly from a candidate set, computed
 * exactly. Multiple choice: the question's choices (1/#choices with one correct choice). Open
 * questions: the distinct normalised reference answers of the question's category in the
 * benchmark (so a yes/no category has chance 1/2 without a list of answer types).
 * Prior: the category's most frequent normalised reference answer (every reference of every
 * question counts once; ties go to the alphabetically first), scored like any answer.
 */
export function baselines(questions: ScorableQuestion[]): Baselines {
  const vocab = new Map<string, Map<string, number>>();
  for (const q of questions) {
    const counts = vocab.get(q.category) ?? new Map<string, number>();
    for (const r of q.references) counts.set(r, (counts.get(r) ?? 0) + 1);
    vocab.set(q.category, counts);
  }
  const priorAnswer = new Map<string, string>();
  for (const [category, counts] of vocab) {
    let best = '';
    let bestCount = -1;
    for (const [answer, c] of counts) if (c > bestCount || (c === bestCount && answer < best)) [best, bestCount] = [answer, c];
    priorAnswer.set(category, best);
  }
  const chance = questions.map((q) => {
    const candidates = q.choices.length ? new Set(q.choices) : new Set(vocab.get(q.category)!.keys());
    // Only candidates among the references can score, so summing over those is exact.
    let total = 0;
    for (const r of new Set(q.references)) if (candidates.has(r)) total += accuracyOf(r, q);
    return total / candidates.size;
  });
  const prior = questions.map((q) => accuracyOf(priorAnswer.get(q.category)!, q));
  return { chance, prior, priorAnswer };
}
