// The statistics of a causal test, as pure functions over summary moments so the per-voxel loop
// stays cheap: paired t (positives vs their own counterfactuals), Welch t (positives vs a
// baseline or a distractor group), Benjamini-Hochberg q-values, effect sizes (paired Cohen's d_z,
// Hedges' g) with exact noncentral-t confidence intervals, and the trials a follow-up needs for
// 80% power. Conventions follow scipy (ttest_rel, ttest_ind(equal_var=False), nct).
import { nctCdf, solveIncreasing, tQuantile, tTwoSided } from './distributions';

export interface TestResult {
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
}

/** Paired t-test from the mean and SD (ddof 1) of n paired differences. */
export function pairedT(meanDiff: number, sdDiff: number, n: number): TestResult {
  const df = n - 1;
  const t = sdDiff > 0 ? meanDiff / (sdDiff / Math.sqrt(n)) : meanDiff === 0 ? NaN : Math.sign(meanDiff) * Infinity;
  return { t, df, p: Number.isNaN(t) ? NaN : tTwoSided(t, df) };
}

/** Welch's t-test (unequal variances) from each group's mean, variance (ddof 1) and size. */
export function welchT(m1: number, v1: number, n1: number, m2: number, v2: number, n2: number): TestResult {
  const a = v1 / n1;
  const b = v2 / n2;
  const se = Math.sqrt(a + b);
  const df = (a + b) ** 2 / ((a * a) / (n1 - 1) + (b * b) / (n2 - 1));
  const diff = m1 - m2;
  if (!(se > 0)) return { t: diff === 0 ? NaN : Math.sign(diff) * Infinity, df: n1 + n2 - 2, p: diff === 0 ? NaN : 0 };
  const t = diff / se;
  return { t, df, p: tTwoSided(t, df) };
}

/**
 * Benjamini-Hochberg q-values (step-up, monotone, capped at 1), as statsmodels'
 * multipletests(method='fdr_bh') and scipy's false_discovery_control. NaN p-values stay NaN and
 * do not count towards the number of tests.
 */
export function bhQValues(p: ArrayLike<number>): Float64Array {
  const q = new Float64Array(p.length).fill(NaN);
  const idx: number[] = [];
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i])) idx.push(i);
  idx.sort((i, j) => p[i] - p[j]);
  const m = idx.length;
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    running = Math.min(running, (p[idx[k]] * m) / (k + 1));
    q[idx[k]] = running;
  }
  return q;
}

/** Paired Cohen's d_z: mean difference over the SD (ddof 1) of the differences. */
export function cohensDz(meanDiff: number, sdDiff: number): number {
  return sdDiff > 0 ? meanDiff / sdDiff : NaN;
}

/** Paired Cohen's d_av: mean difference over the average SD of the two conditions. */
export function cohensDav(meanDiff: number, sdAverage: number): number {
  return sdAverage > 0 ? meanDiff / sdAverage : NaN;
}

/**
 * d_av with a CI from the paired t interval of the mean difference, scaled by the average SD
 * (the SD taken as known): (mean +- t_{1-a/2, n-1} sd_diff / sqrt(n)) / sd_av.
 */
export function davWithCi(meanDiff: number, sdDiff: number, sdAverage: number, n: number, level = 0.95) {
  const half = (tQuantile(1 - (1 - level) / 2, n - 1) * sdDiff) / Math.sqrt(n);
  return { effect: cohensDav(meanDiff, sdAverage), ciLow: cohensDav(meanDiff - half, sdAverage), ciHigh: cohensDav(meanDiff + half, sdAverage) };
}

/** Hedges' small-sample correction J ~= 1 - 3 / (4 df - 1) (Hedges & Olkin 1985). */
function hedgesJ(df: number): number {
  return 1 - 3 / (4 * df - 1);
}

/** Hedges' g: difference of means over the pooled SD (ddof 1), times the correction J(n1+n2-2). */
export function hedgesG(m1: number, v1: number, n1: number, m2: number, v2: number, n2: number): number {
  const df = n1 + n2 - 2;
  const pooled = Math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / df);
  return pooled > 0 ? (hedgesJ(df) * (m1 - m2)) / pooled : NaN;
}

/**
 * Confidence interval for a noncentrality parameter: the delta with nct.cdf(t; df, delta) equal
 * to 1 - alpha/2 (low) and alpha/2 (high).
 */
function noncentralityCi(t: number, df: number, level: number): [number, number] {
  if (!Number.isFinite(t)) return [NaN, NaN];
  const alpha = 1 - level;
  const span = Math.abs(t) + 10 + 5 * Math.sqrt(1 + (t * t) / (2 * df));
  // nct.cdf decreases in delta: solve on its negation.
  const f = (d: number) => -nctCdf(t, df, d);
  return [solveIncreasing(f, -(1 - alpha / 2), t - span, t + span), solveIncreasing(f, -(alpha / 2), t - span, t + span)];
}

/** d_z with its exact CI (noncentral t with n-1 df, noncentrality d_z sqrt(n)). */
export function dzWithCi(meanDiff: number, sdDiff: number, n: number, level = 0.95): { effect: number; ciLow: number; ciHigh: number } {
  return dzCi(cohensDz(meanDiff, sdDiff), n, level);
}

export function dzCi(dz: number, n: number, level = 0.95): { effect: number; ciLow: number; ciHigh: number } {
  const [lo, hi] = noncentralityCi(dz * Math.sqrt(n), n - 1, level);
  return { effect: dz, ciLow: lo / Math.sqrt(n), ciHigh: hi / Math.sqrt(n) };
}

/** Hedges' g with its CI from the noncentral t of the pooled two-sample test, scaled by J. */
export function hedgesGWithCi(m1: number, v1: number, n1: number, m2: number, v2: number, n2: number, level = 0.95) {
  return hedgesGCi(hedgesG(m1, v1, n1, m2, v2, n2), n1, n2, level);
}

export function hedgesGCi(g: number, n1: number, n2: number, level = 0.95): { effect: number; ciLow: number; ciHigh: number } {
  const df = n1 + n2 - 2;
  const scale = Math.sqrt((n1 * n2) / (n1 + n2));
  const j = hedgesJ(df);
  const [lo, hi] = noncentralityCi((g / j) * scale, df, level);
  return { effect: g, ciLow: (j * lo) / scale, ciHigh: (j * hi) / scale };
}

/** Power of a two-sided one-sample (paired) t-test with n observations and standardised effect d. */
export function pairedPower(d: number, n: number, alpha = 0.05): number {
  const df = n - 1;
  const crit = tQuantile(1 - alpha / 2, df);
  const nc = d * Math.sqrt(n);
  return 1 - nctCdf(crit, df, nc) + nctCdf(-crit, df, nc);
}

/**
 * Smallest n >= 2 with pairedPower(d, n) >= power; null when more than maxN would be needed
 * (or d is 0 / undefined). Power grows with n, so doubling then bisection finds it.
 */
export function trialsForPower(d: number, power = 0.8, alpha = 0.05, maxN = 1_000_000): number | null {
  const effect = Math.abs(d);
  if (!(effect > 0) || !Number.isFinite(effect)) return null;
  if (pairedPower(effect, 2, alpha) >= power) return 2;
  let hi = 4;
  while (pairedPower(effect, hi, alpha) < power) {
    if (hi >= maxN) return null;
    hi = Math.min(maxN, hi * 2);
  }
  let lo = hi / 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (pairedPower(effect, mid, alpha) >= power) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Single-trial noise SD of a voxel from its NSD noise ceiling and its SD over all trials.
 * NC% = 100 snr^2 / (snr^2 + 1/nRepeats) gives snr^2 = nc / (nRepeats (1 - nc)) with nc = NC%/100;
 * a trial's variance is signal plus noise, sd^2 = sigma_s^2 + sigma_n^2 with sigma_s = snr
 * sigma_n, so sigma_n = sd / sqrt(1 + snr^2). A ceiling of 100% (no noise) is capped at 99.9%.
 */
export function noiseSdFromCeiling(ncPercent: number, nRepeats: number, trialSd: number): number {
  if (!Number.isFinite(ncPercent) || !Number.isFinite(trialSd)) return NaN;
  const nc = Math.min(Math.max(ncPercent / 100, 0), 0.999);
  const snr2 = nc / (nRepeats * (1 - nc));
  return trialSd / Math.sqrt(1 + snr2);
}
