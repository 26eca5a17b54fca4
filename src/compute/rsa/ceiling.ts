// RSA noise ceilings: how well the true representational geometry could score given the noise.
//
// Across subjects (rsatoolbox's noise ceiling): with the same stimuli measured in several
// subjects, upper bound = mean over subjects of compare(subject's RDM, mean RDM of all subjects),
// lower bound = the same against the mean RDM of the other subjects (leave one subject out). RDMs
// are pooled as rsatoolbox's pool_rdm does for the comparison: rank-transformed for Spearman and
// tau-a, z-scored for Pearson. For CKA the subject "geometries" are centred Grams, each scaled to
// unit Frobenius norm before averaging.
//
// Within one subject (split half): the RDM of the even-numbered repeats against the RDM of the
// odd-numbered repeats gives r_half; lower bound = r_half, upper bound = sqrt(2 r / (1 + r)) (the
// Spearman-Brown reliability of the full-data RDM, whose square root bounds the correlation any
// model can reach with it). Undefined (NaN) when r_half <= 0.
import { check } from '../errors';
import { cka, type Gram } from './cka';
import { compareRdms, midRank, rankRdm, type RdmComparison } from './compare';

export interface Ceiling {
  lower: number;
  upper: number;
  method: 'across-subjects' | 'split-half';
  nSubjects: number;
}

/** The per-comparison transform applied before RDMs are averaged. */
function poolable(values: Float32Array, comparison: RdmComparison): Float64Array {
  const m = values.length;
  const out = new Float64Array(m);
  if (comparison === 'pearson') {
    let mean = 0;
    for (let i = 0; i < m; i++) mean += values[i];
    mean /= m;
    let ss = 0;
    for (let i = 0; i < m; i++) ss += (values[i] - mean) ** 2;
    const sd = Math.sqrt(ss / m) || 1;
    for (let i = 0; i < m; i++) out[i] = (values[i] - mean) / sd;
  } else {
    const sorted = Float32Array.from(values).sort();
    for (let i = 0; i < m; i++) out[i] = midRank(sorted, values[i]);
  }
  return out;
}

function meanOf(parts: Float64Array[], skip: number): Float32Array {
  const m = parts[0].length;
  const out = new Float32Array(m);
  let k = 0;
  for (let s = 0; s < parts.length; s++) {
    if (s === skip) continue;
    k++;
    for (let i = 0; i < m; i++) out[i] += parts[s][i];
  }
  for (let i = 0; i < m; i++) out[i] /= k;
  return out;
}

/** Ceiling across subjects' RDMs over the same stimuli (at least 2 subjects). */
export function rdmCeilingAcrossSubjects(rdms: Float32Array[], comparison: RdmComparison): Ceiling {
  check(rdms.length >= 2, 'INVALID_ARGUMENT', 'a ceiling across subjects needs at least 2 subjects');
  const pooled = rdms.map((r) => poolable(r, comparison));
  const ranked = rdms.map((r) => rankRdm(r));
  const all = rankRdm(meanOf(pooled, -1));
  let upper = 0;
  let lower = 0;
  rdms.forEach((_, s) => {
    upper += compareRdms(comparison, ranked[s], all);
    lower += compareRdms(comparison, ranked[s], rankRdm(meanOf(pooled, s)));
  });
  return { lower: lower / rdms.length, upper: upper / rdms.length, method: 'across-subjects', nSubjects: rdms.length };
}

/** Ceiling from one subject's two half-RDMs (even and odd repeats). */
export function rdmCeilingSplitHalf(halfA: Float32Array, halfB: Float32Array, comparison: RdmComparison): Ceiling {
  return splitHalf(compareRdms(comparison, rankRdm(halfA), rankRdm(halfB)));
}

function splitHalf(r: number): Ceiling {
  const upper = r > 0 ? Math.sqrt((2 * r) / (1 + r)) : NaN;
  return { lower: r > 0 ? r : NaN, upper, method: 'split-half', nSubjects: 1 };
}

export type CkaMeasure = 'linear' | 'debiased';

function unitGram(g: Gram): Float64Array {
  let ss = 0;
  for (let t = 0; t < g.data.length; t++) ss += g.data[t] * g.data[t];
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  return Float64Array.from(g.data, (x) => x * inv);
}

/** CKA ceilings across subjects' centred Grams over the same stimuli. */
export function ckaCeilingAcrossSubjects(grams: Gram[]): Record<CkaMeasure, Ceiling> {
  check(grams.length >= 2, 'INVALID_ARGUMENT', 'a ceiling across subjects needs at least 2 subjects');
  const n = grams[0].n;
  const units = grams.map(unitGram);
  const sums = { linear: { lower: 0, upper: 0 }, debiased: { lower: 0, upper: 0 } };
  grams.forEach((g, s) => {
    const all = cka(g, { data: meanOf(units, -1), n });
    const others = cka(g, { data: meanOf(units, s), n });
    sums.linear.upper += all.linear;
    sums.linear.lower += others.linear;
    sums.debiased.upper += all.debiased;
    sums.debiased.lower += others.debiased;
  });
  const k = grams.length;
  const make = (m: CkaMeasure): Ceiling => ({ lower: sums[m].lower / k, upper: sums[m].upper / k, method: 'across-subjects', nSubjects: k });
  return { linear: make('linear'), debiased: make('debiased') };
}

/** CKA ceilings from one subject's two half Grams. */
export function ckaCeilingSplitHalf(halfA: Gram, halfB: Gram): Record<CkaMeasure, Ceiling> {
  const v = cka(halfA, halfB);
  return { linear: splitHalf(v.linear), debiased: splitHalf(v.debiased) };
}
