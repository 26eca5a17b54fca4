// VQA scores of one set of answers: per category and overall (macro average over categories, so
// a category with many questions does not dominate), each with a percentile bootstrap 95% CI over
// images and the chance and prior baselines beside it.
//
// The bootstrap resamples images with replacement and keeps every question of a drawn image
// (questions about one image are not independent). A category with no question in a resample
// has no mean there; the macro average of that resample is over the categories present.
// Callers score several answer sets (whole brain, each ROI) with the same seed, so their
// resamples are identical and their CIs are comparable.
import { percentile, bootstrapIndices } from '../stats';
import { accuracyOf, baselines, type ScorableQuestion } from './accuracy';
import { normalizeAnswer } from './normalize';
import { officialBaselines, officialVqaAccuracy } from './official';

/** official: vqaEval.py exactly (src/compute/vqa/official.ts); normalized: the rules of accuracy.ts. */
export type VqaScoringMode = 'official' | 'normalized';

export interface QuestionInput extends ScorableQuestion {
  questionId: string;
  stimulusId: string;
  /** The references as written in the benchmark file (official mode scores against these). */
  answers?: string[];
}

export interface Summary {
  value: number;
  ciLow: number | null;
  ciHigh: number | null;
  /** Questions scored (answered or missing). */
  n: number;
  nMissing: number;
  chance: number;
  prior: number;
}

export interface QuestionResult {
  questionId: string;
  answered: boolean;
  normalized: string | null;
  accuracy: number;
}

export interface AnswerSetScore {
  overall: Summary;
  categories: Map<string, Summary>;
  questions: QuestionResult[];
}

export interface ScoreOptions {
  nBootstrap: number;
  seed: number;
  confidence?: number;
  /** Default 'official'. */
  mode?: VqaScoringMode;
}

/** Fixed for a benchmark: which image and category each question belongs to, and the baselines. */
export class VqaScorer {
  readonly categories: string[];
  readonly images: string[];
  private readonly catOf: Int32Array;
  private readonly imageOf: Int32Array;
  private readonly resamples: Int32Array[];
  readonly chance: number[];
  readonly prior: number[];
  readonly priorAnswer: Map<string, string>;

  constructor(
    readonly questions: QuestionInput[],
    private readonly options: ScoreOptions,
  ) {
    this.categories = [...new Set(questions.map((q) => q.category))].sort();
    this.images = [...new Set(questions.map((q) => q.stimulusId))].sort();
    const catIdx = new Map(this.categories.map((c, i) => [c, i]));
    const imgIdx = new Map(this.images.map((s, i) => [s, i]));
    this.catOf = Int32Array.from(questions, (q) => catIdx.get(q.category)!);
    this.imageOf = Int32Array.from(questions, (q) => imgIdx.get(q.stimulusId)!);
    this.resamples = options.nBootstrap > 0 ? bootstrapIndices(this.images.length, options.nBootstrap, options.seed) : [];
    ({ chance: this.chance, prior: this.prior, priorAnswer: this.priorAnswer } = baselines(questions));
    // Baselines are scored like the runs beside them: in official mode, open questions get the
    // official chance and prior (multiple choice is scored by its own rule in both modes).
    if ((options.mode ?? 'official') === 'official') {
      const open = questions.flatMap((q, i) => (q.choices.length === 0 ? [i] : []));
      const official = officialBaselines(open.map((i) => ({ category: questions[i].category, answers: questions[i].answers ?? questions[i].references })));
      open.forEach((qi, k) => {
        this.chance[qi] = official.chance[k];
        this.prior[qi] = official.prior[k];
      });
      for (const [category, answer] of official.priorAnswer) this.priorAnswer.set(category, answer);
    }
  }

  /** answers: question id -> raw answer; questions without one score 0 and are counted missing. */
  score(answers: ReadonlyMap<string, string>): AnswerSetScore {
    const results: QuestionResult[] = this.questions.map((q) => {
      const raw = answers.get(q.questionId);
      if (raw === undefined) return { questionId: q.questionId, answered: false, normalized: null, accuracy: 0 };
      const normalized = normalizeAnswer(raw);
      const official = (this.options.mode ?? 'official') === 'official' && q.choices.length === 0;
      const accuracy = official ? officialVqaAccuracy(raw, q.answers ?? q.references) : accuracyOf(normalized, q);
      return { questionId: q.questionId, answered: true, normalized, accuracy };
    });
    const acc = results.map((r) => r.accuracy);
    const nCat = this.categories.length;
    const mean = (values: number[], cat: number) => {
      let s = 0;
      let n = 0;
      values.forEach((v, i) => {
        if (this.catOf[i] === cat) (s += v), n++;
      });
      return s / n;
    };
    const boot = this.bootstrap(acc);
    const lowQ = (1 - (this.options.confidence ?? 0.95)) / 2;
    const ci = (samples: Float64Array | undefined): [number | null, number | null] =>
      samples ? [finite(percentile(samples, lowQ)), finite(percentile(samples, 1 - lowQ))] : [null, null];
    const categories = new Map<string, Summary>();
    this.categories.forEach((name, c) => {
      const [ciLow, ciHigh] = ci(boot?.categories[c]);
      categories.set(name, {
        value: mean(acc, c),
        ciLow,
        ciHigh,
        n: results.filter((_, i) => this.catOf[i] === c).length,
        nMissing: results.filter((r, i) => this.catOf[i] === c && !r.answered).length,
        chance: mean(this.chance, c),
        prior: mean(this.prior, c),
      });
    });
    const macro = (key: 'value' | 'chance' | 'prior') => [...categories.values()].reduce((s, x) => s + x[key], 0) / nCat;
    const [ciLow, ciHigh] = ci(boot?.macro);
    const overall: Summary = {
      value: macro('value'),
      ciLow,
      ciHigh,
      n: results.length,
      nMissing: results.filter((r) => !r.answered).length,
      chance: macro('chance'),
      prior: macro('prior'),
    };
    return { overall, categories, questions: results };
  }

  /** Per-resample category means and their macro average, from per-image category sums. */
  private bootstrap(acc: number[]): { categories: Float64Array[]; macro: Float64Array } | undefined {
    if (!this.resamples.length) return undefined;
    const nCat = this.categories.length;
    const nImg = this.images.length;
    // Sparse per-image (category, sum, count) cells: an image has a few categories, not all.
    const cells = new Map<number, { sum: number; count: number }>();
    acc.forEach((a, i) => {
      const key = this.imageOf[i] * nCat + this.catOf[i];
      const cell = cells.get(key) ?? { sum: 0, count: 0 };
      cell.sum += a;
      cell.count += 1;
      cells.set(key, cell);
    });
    const perImage: { cat: number; sum: number; count: number }[][] = Array.from({ length: nImg }, () => []);
    for (const [key, cell] of cells) perImage[Math.floor(key / nCat)].push({ cat: key % nCat, ...cell });
    const categories = Array.from({ length: nCat }, () => new Float64Array(this.resamples.length));
    const macro = new Float64Array(this.resamples.length);
    const s = new Float64Array(nCat);
    const n = new Float64Array(nCat);
    this.resamples.forEach((draw, b) => {
      s.fill(0);
      n.fill(0);
      for (const img of draw) {
        for (const cell of perImage[img]) {
          s[cell.cat] += cell.sum;
          n[cell.cat] += cell.count;
        }
      }
      let total = 0;
      let present = 0;
      for (let c = 0; c < nCat; c++) {
        categories[c][b] = n[c] ? s[c] / n[c] : Number.NaN;
        if (n[c]) (total += categories[c][b]), present++;
      }
      macro[b] = present ? total / present : Number.NaN;
    });
    return { categories, macro };
  }
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
