// The causal-test statistics against scipy reference values (scripts/fixtures/causal_stats.py).
import fixtures from '../fixtures/causal/stats.json';
import { nctCdf, nctQuantile, nctSf, normalCdf, tCdf, tQuantile, tTwoSided } from '../../src/compute/causal/distributions';
import { dzCi, hedgesGCi } from '../../src/compute/causal/stats';
import { bhQValues, dzWithCi, hedgesGWithCi, noiseSdFromCeiling, pairedPower, pairedT, trialsForPower, welchT } from '../../src/compute/causal/stats';
import { trueNoiseCeilingPercent } from '../../src/compute/synthetic';

const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
const variance = (x: number[]) => {
  const m = mean(x);
  return x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1);
};
const close = (actual: number, expected: number, rel = 1e-9, abs = 1e-12) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(abs + rel * Math.abs(expected));

describe('Student t distribution', () => {
  it('matches scipy.stats.t.cdf and the two-sided tail, far into the tails', () => {
    for (const r of fixtures.t_cdf) {
      close(tCdf(r.t, r.df), r.cdf, 1e-10, 1e-15);
      close(tTwoSided(r.t, r.df), r.two_sided, 1e-10, 1e-300);
    }
  });
  it('inverts the CDF as scipy.stats.t.ppf', () => {
    for (const r of fixtures.t_quantile) close(tQuantile(r.p, r.df), r.q, 1e-8);
  });
  it('matches scipy.stats.nct.cdf', () => {
    for (const r of fixtures.nct_cdf) close(nctCdf(r.t, r.df, r.delta), r.cdf, 1e-7, 1e-11);
  });
  // |delta| up to 1e3, df 1 to 1e5, t out to 40 spreads from the centre: both tails in relative
  // terms wherever scipy's smaller tail is above 1e-15. Below that, Boost (scipy 1.10) returns
  // rounding residue (1e-16 .. 1e-29 where an independent mpmath integral gives 1e-300 or less),
  // so there the check is only that ours is below 1e-15 too.
  it('matches scipy.stats.nct.cdf and sf over extreme noncentralities, df and tails', () => {
    let checked = 0;
    for (const r of fixtures.nct_extreme) {
      const cdf = nctCdf(r.t, r.df, r.delta);
      const sf = nctSf(r.t, r.df, r.delta);
      close(cdf, r.cdf, 1e-9, 1e-11);
      close(sf, r.sf, 1e-9, 1e-11);
      const [mine, ref] = r.cdf < r.sf ? [cdf, r.cdf] : [sf, r.sf];
      if (ref >= 1e-15) {
        close(mine, ref, 1e-9, 0);
        checked++;
      } else {
        expect(mine).toBeLessThan(1e-15);
      }
    }
    expect(checked).toBeGreaterThan(440);
    close(nctCdf(38.6, 50, 38.6), 0.47465018822653116, 1e-12);
  });
  it('inverts the noncentral t CDF as scipy.stats.nct.ppf, where scipy\'s own ppf converged', () => {
    let checked = 0;
    for (const r of fixtures.nct_quantile) {
      if (r.roundTrip > 1e-9) continue; // Boost's ppf did not converge there (its cdf does not return p)
      close(nctQuantile(r.p, r.df, r.delta), r.q, 1e-9, 1e-9);
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
  });
  it('gives exact noncentral-t intervals for strong effects, as scipy', () => {
    for (const r of fixtures.dz_strong) {
      const ci = dzCi(r.dz, r.n);
      close(ci.ciLow, r.ci[0], 1e-7);
      close(ci.ciHigh, r.ci[1], 1e-7);
    }
    for (const r of fixtures.g_strong) {
      const ci = hedgesGCi(r.g, r.n1, r.n2);
      close(ci.ciLow, r.ci[0], 1e-7);
      close(ci.ciHigh, r.ci[1], 1e-7);
    }
  });
  it('every interval contains its point estimate (property over effects and sample sizes)', () => {
    let seed = 12345;
    const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 40; i++) {
      const n = 2 + Math.floor(uniform() ** 3 * 5000);
      const effect = (uniform() - 0.5) * 2 * 10 ** (uniform() * 2.5 - 1); // |effect| from 0 to ~30
      const dz = dzCi(effect, n);
      expect(dz.ciLow).toBeLessThanOrEqual(effect);
      expect(dz.ciHigh).toBeGreaterThanOrEqual(effect);
      const n2 = 2 + Math.floor(uniform() * 300);
      const g = hedgesGCi(effect, n, n2);
      expect(g.ciLow).toBeLessThanOrEqual(effect);
      expect(g.ciHigh).toBeGreaterThanOrEqual(effect);
    }
  });
  it('has the standard normal as its infinite-df limit', () => {
    close(normalCdf(1.959963984540054), 0.975, 1e-13);
    close(normalCdf(-8), 6.22096057427178e-16, 1e-9);
  });
});

describe('tests and effect sizes', () => {
  it('paired t-test, d_z and its exact CI match scipy.stats.ttest_rel and a noncentral-t inversion', () => {
    for (const r of fixtures.paired) {
      const diff = r.a.map((x, i) => x - r.b[i]);
      const res = pairedT(mean(diff), Math.sqrt(variance(diff)), diff.length);
      close(res.t, r.t, 1e-10);
      close(res.p, r.p, 1e-8, 1e-300);
      const dz = dzWithCi(mean(diff), Math.sqrt(variance(diff)), diff.length);
      close(dz.effect, r.dz, 1e-10);
      close(dz.ciLow, r.dz_ci[0], 1e-6, 1e-8);
      close(dz.ciHigh, r.dz_ci[1], 1e-6, 1e-8);
    }
  });
  it("Welch's t-test and Hedges' g with its CI match scipy", () => {
    for (const r of fixtures.welch) {
      const args = [mean(r.a), variance(r.a), r.a.length, mean(r.b), variance(r.b), r.b.length] as const;
      const res = welchT(...args);
      close(res.t, r.t, 1e-10);
      close(res.p, r.p, 1e-8, 1e-300);
      const g = hedgesGWithCi(...args);
      close(g.effect, r.g, 1e-10);
      close(g.ciLow, r.g_ci[0], 1e-6, 1e-8);
      close(g.ciHigh, r.g_ci[1], 1e-6, 1e-8);
    }
  });
  it('Benjamini-Hochberg q-values match the step-up definition, ties and p = 1 included; NaN is not a test', () => {
    const q = bhQValues(fixtures.bh.p);
    fixtures.bh.q.forEach((expected, i) => close(q[i], expected, 1e-12));
    const withNaN = bhQValues([0.01, NaN, 0.04]);
    expect(Number.isNaN(withNaN[1])).toBe(true);
    close(withNaN[0], 0.02);
    close(withNaN[2], 0.04);
  });
});

describe('follow-up power', () => {
  it('two-sided paired t power matches scipy.stats.nct', () => {
    for (const r of fixtures.power) close(pairedPower(r.d, r.n), r.power, 1e-7, 1e-10);
  });
  it('finds the smallest number of trials with 80% power, as a scipy search does', () => {
    for (const r of fixtures.trials_80) expect(trialsForPower(r.d)).toBe(r.n);
    expect(trialsForPower(0)).toBeNull();
  });
  it('recovers the single-trial noise SD from the NSD noise ceiling (closed form of the synthetic generator)', () => {
    // Signal SD snr, noise SD 1: a trial's SD is sqrt(1 + snr^2).
    for (const snr of [0.1, 0.5, 1, 2.5]) {
      for (const reps of [1, 3]) {
        const nc = trueNoiseCeilingPercent(snr, reps);
        close(noiseSdFromCeiling(nc, reps, Math.sqrt(1 + snr * snr)), 1, 1e-12);
      }
    }
  });
});
