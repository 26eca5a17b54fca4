// The decision rule that turns contrasts into classes, the same for voxels and ROI means:
//
// - activation-positive: on the discovery half, positives exceed the baseline (Welch t,
//   Benjamini-Hochberg over all units at q) by at least the minimum effect (Hedges' g).
// - validated causal: on the discovery half, the paired causal contrast (positives vs their own
//   counterfactuals) passes BH at q with d_z >= minimum effect, and every distractor contrast
//   passes BH at q with g >= minimum effect; and on the held-out half the same tests pass again,
//   BH applied over the discovery candidates only (the replication family).
// - activation-only: activation-positive but not validated causal (what activation alone would
//   have reported, and causal testing rejects). neither: everything else.
// The concept must raise the response: effects count in the positive direction only.
import type { DesignContrasts } from './contrasts';
import { bhQValues } from './stats';

export const CLASS = { NEITHER: 0, ACTIVATION_ONLY: 1, VALIDATED_CAUSAL: 2 } as const;
export type CausalClassName = keyof typeof CLASS;
export const CLASS_NAMES: CausalClassName[] = ['NEITHER', 'ACTIVATION_ONLY', 'VALIDATED_CAUSAL'];

export interface Thresholds {
  /** Benjamini-Hochberg false discovery rate, in (0, 1). */
  fdrQ: number;
  /** Minimum standardised effect (d_z or g), >= 0. */
  minEffect: number;
}

export interface Classification {
  classes: Uint8Array;
  activationPositive: Uint8Array;
  /** Passed the causal and distractor tests on the discovery half. */
  discoveryCandidate: Uint8Array;
  /** Of the candidates, passed them again on the held-out half. */
  replicated: Uint8Array;
  /** Discovery-half q-values (activation, causal, then one per distractor group). */
  q: { activation: Float64Array; causal: Float64Array; distractors: Float64Array[] };
}

function passes(effect: number, q: number, t: Thresholds): boolean {
  return q <= t.fdrQ && effect >= t.minEffect;
}

/** q-values over the units in `family` only; NaN elsewhere. */
function familyQ(p: Float64Array, family: Uint8Array): Float64Array {
  const masked = p.map((x, j) => (family[j] ? x : NaN));
  return bhQValues(masked);
}

export function classify(discovery: DesignContrasts, heldOut: DesignContrasts, t: Thresholds): Classification {
  const n = discovery.activation.p.length;
  const all = new Uint8Array(n).fill(1);
  const qAct = familyQ(discovery.activation.p, all);
  const qCausal = familyQ(discovery.causal.p, all);
  const qDist = discovery.distractors.map((d) => familyQ(d.p, all));
  const activationPositive = new Uint8Array(n);
  const candidate = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    activationPositive[j] = +passes(discovery.activation.effect[j], qAct[j], t);
    candidate[j] = +(passes(discovery.causal.effect[j], qCausal[j], t) && discovery.distractors.every((d, g) => passes(d.effect[j], qDist[g][j], t)));
  }
  const hCausal = familyQ(heldOut.causal.p, candidate);
  const hDist = heldOut.distractors.map((d) => familyQ(d.p, candidate));
  const replicated = new Uint8Array(n);
  const classes = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    replicated[j] = +(candidate[j] === 1 && passes(heldOut.causal.effect[j], hCausal[j], t) && heldOut.distractors.every((d, g) => passes(d.effect[j], hDist[g][j], t)));
    classes[j] = replicated[j] ? CLASS.VALIDATED_CAUSAL : activationPositive[j] ? CLASS.ACTIVATION_ONLY : CLASS.NEITHER;
  }
  return { classes, activationPositive, discoveryCandidate: candidate, replicated, q: { activation: qAct, causal: qCausal, distractors: qDist } };
}

export interface ClassCounts {
  validatedCausal: number;
  activationOnly: number;
  neither: number;
  activationPositive: number;
  /** Activation-only over activation-positive: the false-positive fraction of activation-only localisation. */
  falsePositiveFraction: number | null;
}

export function countClasses(c: Classification, units?: ArrayLike<number>): ClassCounts {
  const idx = units ?? Array.from({ length: c.classes.length }, (_, j) => j);
  const counts = { validatedCausal: 0, activationOnly: 0, neither: 0, activationPositive: 0 };
  for (let k = 0; k < idx.length; k++) {
    const j = idx[k];
    if (c.classes[j] === CLASS.VALIDATED_CAUSAL) counts.validatedCausal++;
    else if (c.classes[j] === CLASS.ACTIVATION_ONLY) counts.activationOnly++;
    else counts.neither++;
    counts.activationPositive += c.activationPositive[j];
  }
  return { ...counts, falsePositiveFraction: counts.activationPositive ? counts.activationOnly / counts.activationPositive : null };
}
