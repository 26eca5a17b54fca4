// The stimulus design of one concept query as rows of a response matrix, and its seeded split
// into a discovery half and a held-out half (pairs stay together).
import { Rng } from '../random';

export interface CausalDesign {
  /** Rows of the positives (images with the concept). */
  positives: Int32Array;
  /** Rows of their counterfactual edits, paired one-to-one: counterfactuals[i] edits positives[i]. */
  counterfactuals: Int32Array;
  /** Distractor groups: images carrying a cue correlated with the concept, without the concept. */
  distractors: { cue: string; rows: Int32Array }[];
  /** Other concepts' images (or a neutral set): the reference of the activation score. */
  baseline: Int32Array;
}

export interface DesignSplit {
  discovery: CausalDesign;
  heldOut: CausalDesign;
}

function shuffled(n: number, rng: Rng): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Splits indices 0..n-1 at random into a discovery part and a held-out part of round(n * fraction). */
function halves(n: number, heldOutFraction: number, rng: Rng): [Int32Array, Int32Array] {
  const order = shuffled(n, rng);
  const nHeld = Math.round(n * heldOutFraction);
  return [order.slice(nHeld).sort(), order.slice(0, nHeld).sort()];
}

/**
 * Splits every stimulus group of the design at random (seeded): positives with their own
 * counterfactuals, each distractor group, the baseline. Same seed, same split.
 */
export function splitDesign(design: CausalDesign, seed: number, heldOutFraction = 0.5): DesignSplit {
  const rng = new Rng(seed);
  const pick = (rows: Int32Array, idx: Int32Array) => Int32Array.from(idx, (i) => rows[i]);
  const [pd, ph] = halves(design.positives.length, heldOutFraction, rng.fork('pairs'));
  const [bd, bh] = halves(design.baseline.length, heldOutFraction, rng.fork('baseline'));
  const groups = design.distractors.map((g) => ({ cue: g.cue, parts: halves(g.rows.length, heldOutFraction, rng.fork(`distractors:${g.cue}`)) }));
  const part = (k: 0 | 1, pairs: Int32Array, base: Int32Array): CausalDesign => ({
    positives: pick(design.positives, pairs),
    counterfactuals: pick(design.counterfactuals, pairs),
    distractors: groups.map((g, i) => ({ cue: g.cue, rows: pick(design.distractors[i].rows, g.parts[k]) })),
    baseline: pick(design.baseline, base),
  });
  return { discovery: part(0, pd, bd), heldOut: part(1, ph, bh) };
}
