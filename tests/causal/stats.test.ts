// The causal-test statistics against scipy reference values (scripts/fixtures/causal_stats.py).
import fixtures from '../fixtures/causal/stats.json';
import { nctCdf, normalCdf, tCdf, tQuantile, tTwoSided } from '../../src/compute/causal/distributions';
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
