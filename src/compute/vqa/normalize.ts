// Answer normalisation of the official VQA evaluation (GT-Vision-Lab/VQA, vqaEval.py:
// processPunctuation then processDigitArticle), reproduced with its quirks so numbers compare
// with published VQA accuracies:
// - a punctuation mark is deleted when it touches a space (or the text has a digit,digit comma
//   anywhere), else replaced by a space: "black-and-white" -> "black and white", "1,000" -> "1000";
// - "." is deleted unless a digit follows ("3.5" stays, "dog." -> "dog"); the official regex
//   `(?!<=\d)` was meant as a lookbehind but only the lookahead takes effect, as here;
// - "'" and ":" are not punctuation (contractions survive: "isn't" stays, "isnt" -> "isn't");
// - lower case, number words none/zero..ten -> digits, articles a/an/the dropped, whitespace
//   collapsed; contraction keys with capitals ("Im") never match after lower-casing, as upstream.
// Deliberate difference: the official script normalises only when a question's references
// disagree; we always normalise both sides (decoder output is free text), see ./accuracy.

const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];
const COMMA_BETWEEN_DIGITS = /\d,\d/;
const PERIOD_STRIP = /\.(?!\d)/g;
const ARTICLES = new Set(['a', 'an', 'the']);
const NUMBER_WORDS: Record<string, string> = {
  none: '0', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
};

// The official map, verbatim (including its odd entries such as "somebody'd" -> "somebodyd").
const CONTRACTIONS: Record<string, string> = {
  aint: "ain't", arent: "aren't", cant: "can't", couldve: "could've", couldnt: "couldn't", "couldn'tve": "couldn't've",
  "couldnt've": "couldn't've", didnt: "didn't", doesnt: "doesn't", dont: "don't", hadnt: "hadn't", "hadnt've": "hadn't've",
  "hadn'tve": "hadn't've", hasnt: "hasn't", havent: "haven't", hed: "he'd", "hed've": "he'd've", "he'dve": "he'd've", hes: "he's",
  howd: "how'd", howll: "how'll", hows: "how's", "Id've": "I'd've", "I'dve": "I'd've", Im: "I'm", Ive: "I've", isnt: "isn't",
  itd: "it'd", "itd've": "it'd've", "it'dve": "it'd've", itll: "it'll", "let's": "let's", maam: "ma'am", mightnt: "mightn't",
  "mightnt've": "mightn't've", "mightn'tve": "mightn't've", mightve: "might've", mustnt: "mustn't", mustve: "must've",
  neednt: "needn't", notve: "not've", oclock: "o'clock", oughtnt: "oughtn't", "ow's'at": "'ow's'at", "'ows'at": "'ow's'at",
  "'ow'sat": "'ow's'at", shant: "shan't", "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", shouldve: "should've",
  shouldnt: "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've", "somebody'd": 'somebodyd',
  "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've", somebodyll: "somebody'll", somebodys: "somebody's",
  someoned: "someone'd", "someoned've": "someone'd've", "someone'dve": "someone'd've", someonell: "someone'll",
  someones: "someone's", somethingd: "something'd", "somethingd've": "something'd've", "something'dve": "something'd've",
  somethingll: "something'll", thats: "that's", thered: "there'd", "thered've": "there'd've", "there'dve": "there'd've",
  therere: "there're", theres: "there's", theyd: "they'd", "theyd've": "they'd've", "they'dve": "they'd've", theyll: "they'll",
  theyre: "they're", theyve: "they've", twas: "'twas", wasnt: "wasn't", "wed've": "we'd've", "we'dve": "we'd've", weve: "we've",
  werent: "weren't", whatll: "what'll", whatre: "what're", whats: "what's", whatve: "what've", whens: "when's", whered: "where'd",
  wheres: "where's", whereve: "where've", whod: "who'd", "whod've": "who'd've", "who'dve": "who'd've", wholl: "who'll",
  whos: "who's", whove: "who've", whyll: "why'll", whyre: "why're", whys: "why's", wont: "won't", wouldve: "would've",
  wouldnt: "wouldn't", "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", yall: "y'all", "yall'll": "y'all'll",
  "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", youd: "you'd",
  "youd've": "you'd've", "you'dve": "you'd've", youll: "you'll", youre: "you're", youve: "you've",
};

export function processPunctuation(text: string): string {
  let out = text;
  const digitComma = COMMA_BETWEEN_DIGITS.test(text);
  for (const p of PUNCT) {
    // Upstream tests the original text, not the partly processed one.
    const glue = digitComma || text.includes(p + ' ') || text.includes(' ' + p);
    out = out.split(p).join(glue ? '' : ' ');
  }
  return out.replace(PERIOD_STRIP, '');
}

export function processDigitArticle(text: string): string {
  const words = text
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => NUMBER_WORDS[w] ?? w)
    .filter((w) => !ARTICLES.has(w));
  return words.map((w) => (Object.hasOwn(CONTRACTIONS, w) ? CONTRACTIONS[w] : w)).join(' ');
}

/** The official pipeline: newlines/tabs to spaces, trim, punctuation, then digits/articles. */
export function normalizeAnswer(answer: string): string {
  return processDigitArticle(processPunctuation(answer.replace(/[\n\t]/g, ' ').trim()));
}
