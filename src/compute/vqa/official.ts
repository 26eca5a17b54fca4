// VQA accuracy exactly as the official evaluation computes it (GT-Vision-Lab/VQA,
// PythonEvaluationTools/vqaEvaluation/vqaEval.py), quirks included, so that published VQA and
// NSD-VQA numbers are reproduced to the last digit:
// - answers and references are cleaned (newline and tab to space, Python's str.strip, whose
//   whitespace set keeps U+FEFF that JavaScript's trim removes);
// - punctuation, number words, articles and contractions are normalised ONLY when the references
//   of the question differ; with identical references the comparison is exact (case and
//   punctuation count: "Yes." scores 0 against ten "yes");
// - accuracy is the mean over leave-one-out subsets of min(#matches / 3, 1), so a question with
//   one reference scores 0 whatever the answer (its only subset is empty);
// - the period strip is `periodStrip.sub("", text, re.UNICODE)`, which passes re.UNICODE (32)
//   as the replacement count: at most 32 periods go.
// Checked against a Python 3 port of the script (scripts/fixtures/vqa_official.py) on committed cases.

/** Python's str.isspace characters (str.strip and str.split use them). */
const PY_SPACE = '\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000';
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const SPLIT = new RegExp(`[${PY_SPACE}]+`);
const COMMA_STRIP = /(\p{Nd})(,)(\p{Nd})/u;
// "(?!<=\d)" is a lookahead in the original (a mistyped lookbehind); it is kept as written.
const PERIOD_STRIP = /(?!<=\p{Nd})(\.)(?!\p{Nd})/gu;
/** re.UNICODE, passed as the count argument of periodStrip.sub. */
const PERIOD_STRIP_COUNT = 32;
const PUNCT: readonly string[] = [";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"];
const MANUAL_MAP = new Map(Object.entries({ none: '0', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10' }));
const ARTICLES = new Set(['a', 'an', 'the']);
const CONTRACTIONS = new Map(Object.entries({"aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't", "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't", "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't", "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's", "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm", "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll", "let's": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't", "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've", "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've", "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've", "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd", "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll", "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've", "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's", "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're", "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't", "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd", "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll", "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're", "youve": "you've"} as Record<string, string>));

function pyStrip(text: string): string {
  return text.replace(STRIP, '');
}

function clean(text: string): string {
  return pyStrip(text.replaceAll('\n', ' ').replaceAll('\t', ' '));
}

function processPunctuation(inText: string): string {
  let out = inText;
  const commaBetweenDigits = COMMA_STRIP.test(inText);
  for (const p of PUNCT) {
    if (inText.includes(p + ' ') || inText.includes(' ' + p) || commaBetweenDigits) out = out.replaceAll(p, '');
    else out = out.replaceAll(p, ' ');
  }
  let n = 0;
  return out.replace(PERIOD_STRIP, (m) => (n++ < PERIOD_STRIP_COUNT ? '' : m));
}

function processDigitArticle(inText: string): string {
  const words = inText
    .toLowerCase()
    .split(SPLIT)
    .filter((w) => w.length > 0)
    .map((w) => MANUAL_MAP.get(w) ?? w)
    .filter((w) => !ARTICLES.has(w));
  return words.map((w) => CONTRACTIONS.get(w) ?? w).join(' ');
}

/** The official normalisation of one answer (what vqaEval.py applies when references differ). */
export function officialNormalize(text: string): string {
  return processDigitArticle(processPunctuation(text));
}

/** Accuracy of a raw answer against a question's raw references, as vqaEval.py computes it. */
export function officialVqaAccuracy(rawAnswer: string, rawReferences: readonly string[]): number {
  if (rawReferences.length === 0) return 0;
  let answer = clean(rawAnswer);
  let references = rawReferences.map(clean);
  if (new Set(references).size > 1) {
    references = references.map(officialNormalize);
    answer = officialNormalize(answer);
  }
  // Leave-one-out over answer entries (each has its own answer_id, so exactly one is left out).
  const matches = references.filter((r) => r === answer).length;
  let total = 0;
  for (const r of references) total += Math.min(1, (r === answer ? matches - 1 : matches) / 3);
  return total / references.length;
}

/** The cleaning vqaEval.py applies to every answer and reference before comparing. */
export function officialClean(text: string): string {
  return clean(text);
}

/**
 * Chance and prior of open questions as official mode scores runs, so the baselines shown beside
 * an official score are on the same scale. A guesser answers with what annotators wrote: the
 * candidates of a category are its distinct references as written (cleaned as vqaEval.py cleans);
 * chance is the mean official accuracy over those candidates, prior the official accuracy of the
 * most frequent one (ties: first in code-unit order). Matches only count on a reference's form
 * (as written when the references agree, normalised when they differ), so chance sums over the
 * forms present: exact, without scoring every candidate against every question.
 */
export function officialBaselines(questions: readonly { category: string; answers: readonly string[] }[]): {
  chance: number[];
  prior: number[];
  priorAnswer: Map<string, string>;
} {
  const vocab = new Map<string, Map<string, number>>();
  for (const q of questions) {
    const counts = vocab.get(q.category) ?? new Map<string, number>();
    for (const r of q.answers) counts.set(clean(r), (counts.get(clean(r)) ?? 0) + 1);
    vocab.set(q.category, counts);
  }
  const priorAnswer = new Map<string, string>();
  // Per category: how many candidates have each written and each normalised form.
  const forms = new Map<string, { written: Map<string, number>; normalized: Map<string, number>; size: number }>();
  for (const [category, counts] of vocab) {
    let best = '';
    let bestCount = -1;
    for (const [answer, c] of counts) if (c > bestCount || (c === bestCount && answer < best)) [best, bestCount] = [answer, c];
    priorAnswer.set(category, best);
    const written = new Map<string, number>();
    const normalized = new Map<string, number>();
    for (const answer of counts.keys()) {
      written.set(answer, 1);
      const n = officialNormalize(answer);
      normalized.set(n, (normalized.get(n) ?? 0) + 1);
    }
    forms.set(category, { written, normalized, size: counts.size });
  }
  const chance = questions.map((q) => {
    const f = forms.get(q.category)!;
    if (q.answers.length === 0) return 0;
    let references = q.answers.map(clean);
    const differ = new Set(references).size > 1;
    if (differ) references = references.map(officialNormalize);
    const candidates = differ ? f.normalized : f.written;
    let total = 0;
    for (const form of new Set(references)) {
      const c = candidates.get(form);
      if (!c) continue;
      const matches = references.filter((r) => r === form).length;
      let acc = 0;
      for (const r of references) acc += Math.min(1, (r === form ? matches - 1 : matches) / 3);
      total += (c * acc) / references.length;
    }
    return total / f.size;
  });
  const prior = questions.map((q) => officialVqaAccuracy(priorAnswer.get(q.category)!, q.answers));
  return { chance, prior, priorAnswer };
}
