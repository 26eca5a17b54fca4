// RSA and CKA kernels against numpy/scipy values (scripts/fixtures/rsa_reference.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matrix } from '../../src/compute/onnx';
import {
  ascendingOrder,
  centredGram,
  cka,
  ckaBootstrap,
  compareRdms,
  crossnobisRdm,
  kendallTauA,
  pairWeights,
  percentileInterval,
  resampleCounts,
  patternRdm,
  pearsonR,
  rankRdm,
  rdmCeilingAcrossSubjects,
  rdmCeilingSplitHalf,
  ckaCeilingAcrossSubjects,
  ckaCeilingSplitHalf,
  spearmanRho,
  spearmanFromKeys,
  kendallTauAFromKeys,
  rdmKeys,
  subTriangle,
  weightedPearson,
  weightedRanks,
  tauPlan,
  weightedTauA,
} from '../../src/compute/rsa';
import { Rng } from '../../src/compute/random';
import { cpuEngine, maxRelativeError } from './helpers';

const fx = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'rsa', 'reference.json'), 'utf8'));
const f32 = (x: number[]) => Float32Array.from(x);

describe('RDMs against scipy pdist and rsatoolbox definitions', () => {
  const { n, p } = fx.rdm;
  const patterns = matrix(f32(fx.rdm.patterns), n, p);
  test.each([1, 5, 64])('correlation distance and rsatoolbox Euclidean (sqeuclidean / channels), blocks of %i rows', async (blockRows) => {
    const engine = await cpuEngine();
    const corr = await patternRdm(engine, patterns, 'correlation', { blockRows });
    expect(corr.constantStimuli).toEqual([]);
    expect(maxRelativeError(corr.values, fx.rdm.correlation)).toBeLessThan(1e-5);
    const euc = await patternRdm(engine, patterns, 'euclidean', { blockRows });
    expect(maxRelativeError(euc.values, fx.rdm.euclidean)).toBeLessThan(1e-4);
  });
  test('crossnobis as the average over leave-one-repeat-out folds', async () => {
    const engine = await cpuEngine();
    const reps = [0, 1, 2].map((k) => matrix(f32(fx.rdm.repeats.slice(k * n * p, (k + 1) * n * p)), n, p));
    const rdm = await crossnobisRdm(engine, reps, { blockRows: 4 });
    expect(maxRelativeError(rdm.values, fx.rdm.crossnobis)).toBeLessThan(1e-4);
  });
  test('a constant pattern is reported, its pairs NaN, never a silent number', async () => {
    const engine = await cpuEngine();
    const data = f32(fx.rdm.patterns);
    data.fill(2.5, 3 * p, 4 * p);
    const rdm = await patternRdm(engine, matrix(data, n, p), 'correlation');
    expect(rdm.constantStimuli).toEqual([3]);
    expect(Number.isNaN(rdm.values[2])).toBe(true); // pair (0, 3)
    expect(() => rankRdm(rdm.values)).toThrow(/NaN/);
  });
});

describe('RDM comparisons against scipy (Spearman, Pearson) and brute-force tau-a', () => {
  const comparisonCases: [number, any][] = fx.comparisons.map((c: any, i: number) => [i, c]);
  test.each(comparisonCases)('case %i', (_i, c) => {
    const a = rankRdm(f32(c.a));
    const b = rankRdm(f32(c.b));
    expect(spearmanRho(a, b)).toBeCloseTo(c.spearman, 6);
    expect(pearsonR(a.values, b.values)).toBeCloseTo(c.pearson, 6);
    expect(kendallTauA(a, b)).toBeCloseTo(c.kendall_tau_a, 10);
    expect(compareRdms('kendall_tau_a', a, b)).toBeCloseTo(c.kendall_tau_a, 10);
    // The weighted forms with unit weights are the same statistics.
    const w = new Float64Array(c.a.length).fill(1);
    expect(weightedPearson(weightedRanks(a, ascendingOrder(a), w), weightedRanks(b, ascendingOrder(b), w), w)).toBeCloseTo(c.spearman, 6);
    expect(weightedTauA(tauPlan(rdmKeys(a).keys, rdmKeys(b).keys), w)).toBeCloseTo(c.kendall_tau_a, 10);
    // Keys computed once per RDM (as the analysis compares one RDM with many) give the same values.
    expect(spearmanFromKeys(rdmKeys(a), rdmKeys(b))).toBeCloseTo(c.spearman, 6);
    expect(kendallTauAFromKeys(rdmKeys(a), rdmKeys(b))).toBeCloseTo(c.kendall_tau_a, 10);
  });
});

describe('CKA against Kornblith et al.\'s reference formulas', () => {
  const ckaCases: [number, any][] = fx.cka.map((c: any) => [c.n, c]);
  test.each(ckaCases)('n = %i', async (_n, c) => {
    const engine = await cpuEngine();
    const K = await centredGram(engine, matrix(f32(c.x), c.n, c.d));
    const L = await centredGram(engine, matrix(f32(c.y), c.n, c.v));
    const v = cka(K, L);
    expect(v.linear).toBeCloseTo(c.linear, 5);
    expect(v.linear).toBeCloseTo(c.linear_feature_space, 5);
    expect(v.debiased).toBeCloseTo(c.debiased, 4);
  });
});

describe('bootstrap over stimuli against explicitly resampled data', () => {
  const b = fx.bootstrap;
  test('weighted pairs equal the resampled RDM without the pairs of copies of one stimulus', async () => {
    const engine = await cpuEngine();
    const brain = matrix(f32(b.brain), b.n, b.brain_p);
    const model = matrix(f32(b.model), b.n, b.model_p);
    const ra = rankRdm((await patternRdm(engine, brain, 'correlation')).values);
    const rb = rankRdm((await patternRdm(engine, model, 'correlation')).values);
    const orderA = ascendingOrder(ra);
    const orderB = ascendingOrder(rb);
    const plan = tauPlan(rdmKeys(ra).keys, rdmKeys(rb).keys);
    const counts = new Float32Array(b.resamples.length * b.n);
    b.resamples.forEach((r: any, s: number) => r.draws.forEach((i: number) => (counts[s * b.n + i] += 1)));
    const boot = await ckaBootstrap(engine, [await centredGram(engine, model)], [await centredGram(engine, brain)], matrix(counts, b.resamples.length, b.n));
    b.resamples.forEach((r: any, s: number) => {
      const w = pairWeights(counts.subarray(s * b.n, (s + 1) * b.n), b.n);
      expect(w.reduce((x, y) => x + y, 0)).toBe(r.n_pairs_kept);
      expect(weightedPearson(weightedRanks(ra, orderA, w), weightedRanks(rb, orderB, w), w)).toBeCloseTo(r.spearman, 5);
      expect(weightedPearson(ra.values, rb.values, w)).toBeCloseTo(r.pearson, 5);
      expect(weightedTauA(plan, w)).toBeCloseTo(r.kendall_tau_a, 6);
      // CKA with the entries pairing a draw with a copy of its stimulus left out, like the RDM pairs.
      expect(boot[0][0].linear[s]).toBeCloseTo(r.cka_linear, 4);
      expect(boot[0][0].debiased[s]).toBeCloseTo(r.cka_debiased, 3);
    });
  });
});

describe('weighted tau-a with heavy ties equals tau-a of the expanded copies (brute force)', () => {
  test.each([0, 1, 2, 3])('seed %i', (seed) => {
    const rng = new Rng(100 + seed);
    const m = 60;
    const a = new Float32Array(m).map(() => rng.int(5));
    const b = new Float32Array(m).map(() => rng.int(4));
    const w = new Float64Array(m).map(() => rng.int(4));
    // Expand each pair into w copies and count over all pairs of copies: sign(da) * sign(db).
    const ea: number[] = [];
    const eb: number[] = [];
    for (let i = 0; i < m; i++) for (let c = 0; c < w[i]; c++) (ea.push(a[i]), eb.push(b[i]));
    let s = 0;
    for (let i = 0; i < ea.length; i++) for (let j = i + 1; j < ea.length; j++) s += Math.sign(ea[i] - ea[j]) * Math.sign(eb[i] - eb[j]);
    const expected = s / ((ea.length * (ea.length - 1)) / 2);
    expect(weightedTauA(tauPlan(rdmKeys(rankRdm(a)).keys, rdmKeys(rankRdm(b)).keys), w)).toBeCloseTo(expected, 12);
  });
});

describe('CKA bootstrap statistic: copy entries excluded (numpy brute force over the expanded draws)', () => {
  const cb = fx.cka_bootstrap;
  const countsOf = (sets: number[][], n: number) => {
    const counts = new Float32Array(sets.length * n);
    sets.forEach((draws, s) => draws.forEach((i) => (counts[s * n + i] += 1)));
    return matrix(counts, sets.length, n);
  };
  test.each([undefined, 1])('fixed resample index sets (blockBytes %p)', async (blockBytes) => {
    const engine = await cpuEngine();
    const K = await centredGram(engine, matrix(f32(cb.x), cb.n, cb.d));
    const L = await centredGram(engine, matrix(f32(cb.y), cb.n, cb.v));
    // blockBytes 1: one resample per engine product, the same numbers as all at once.
    const [[boot]] = await ckaBootstrap(engine, [K], [L], countsOf(cb.resamples.map((r: any) => r.draws), cb.n), { blockBytes });
    cb.resamples.forEach((r: any, s: number) => {
      expect(boot.linear[s]).toBeCloseTo(r.linear, 5);
      if (r.debiased === null) expect(Number.isNaN(boot.debiased[s])).toBe(true);
      else expect(boot.debiased[s]).toBeCloseTo(r.debiased, 4);
    });
  });
  test('a resample drawing every stimulus once is the estimate itself', async () => {
    const engine = await cpuEngine();
    for (const c of fx.cka) {
      const K = await centredGram(engine, matrix(f32(c.x), c.n, c.d));
      const L = await centredGram(engine, matrix(f32(c.y), c.n, c.v));
      const [[boot]] = await ckaBootstrap(engine, [K], [L], countsOf([Array.from({ length: c.n }, (_, i) => i)], c.n));
      expect(boot.linear[0]).toBeCloseTo(c.linear, 5);
      expect(boot.debiased[0]).toBeCloseTo(c.debiased, 4);
    }
  });
});

describe('CKA bootstrap intervals contain their estimate on planted data', () => {
  // Planted: responses a noisy linear readout of the features, from nearly pure noise to nearly
  // noiseless, in a few widths. With copies kept, duplicated rows pushed the resamples above the
  // estimate; with them excluded every 95% interval must bracket it.
  const cases: [number, number, number, number][] = [];
  for (const n of [40, 80]) for (const noise of [0.3, 1, 3, 10]) cases.push([n, noise, 12, 20]);
  test.each(cases)('n = %i, noise %p', async (n, noise, d, v) => {
    const engine = await cpuEngine();
    const rng = new Rng(1000 * n + Math.round(noise * 10));
    const gauss = () => rng.normal();
    const x = Float32Array.from({ length: n * d }, gauss);
    const w = Float64Array.from({ length: d * v }, gauss);
    const y = new Float32Array(n * v);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < v; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += x[i * d + k] * w[k * v + j];
        y[i * v + j] = s + noise * gauss();
      }
    const K = await centredGram(engine, matrix(x, n, d));
    const L = await centredGram(engine, matrix(y, n, v));
    const estimate = cka(K, L);
    const B = 400;
    const [[boot]] = await ckaBootstrap(engine, [K], [L], matrix(resampleCounts(n, B, 7), B, n));
    for (const m of ['linear', 'debiased'] as const) {
      const [lo, hi] = percentileInterval(boot[m]);
      expect({ m, lo: lo <= estimate[m], hi: hi >= estimate[m] }).toEqual({ m, lo: true, hi: true });
    }
  });
});

describe('noise ceiling across subjects as rsatoolbox', () => {
  test('upper: each subject vs the mean of all; lower: vs the mean of the others', () => {
    const c = rdmCeilingAcrossSubjects(fx.ceiling.rdms.map(f32), 'spearman');
    expect(c.upper).toBeCloseTo(fx.ceiling.spearman_upper, 6);
    expect(c.lower).toBeCloseTo(fx.ceiling.spearman_lower, 6);
    expect(c.lower).toBeLessThan(c.upper);
  });
  test('subTriangle picks the RDM of a subset of stimuli', () => {
    const values = f32(fx.rdm.correlation);
    const sub = subTriangle(values, fx.rdm.n, [2, 5, 9]);
    const n = fx.rdm.n;
    const at = (i: number, j: number) => values[i * n - (i * (i + 1)) / 2 + (j - i - 1)];
    expect(Array.from(sub)).toEqual([at(2, 5), at(2, 9), at(5, 9)]);
  });
});

describe('noise ceilings for every measure against numpy/scipy', () => {
  test('across subjects: Pearson (z-scored pooling) and tau-a (rank pooling)', () => {
    for (const m of ['pearson', 'kendall_tau_a'] as const) {
      const c = rdmCeilingAcrossSubjects(fx.ceiling.rdms.map(f32), m);
      expect(c.upper).toBeCloseTo(fx.ceiling[`${m}_upper`], 5);
      expect(c.lower).toBeCloseTo(fx.ceiling[`${m}_lower`], 5);
    }
  });
  test('CKA across subjects: unit-norm centred Grams averaged', async () => {
    const engine = await cpuEngine();
    const cc = fx.cka_ceiling;
    const grams = await Promise.all(cc.patterns.map((x: number[]) => centredGram(engine, matrix(f32(x), x.length / cc.p, cc.p))));
    const c = ckaCeilingAcrossSubjects(grams);
    expect(c.linear.upper).toBeCloseTo(cc.linear_upper, 5);
    expect(c.linear.lower).toBeCloseTo(cc.linear_lower, 5);
    expect(c.debiased.upper).toBeCloseTo(cc.debiased_upper, 5);
    expect(c.debiased.lower).toBeCloseTo(cc.debiased_lower, 5);
  });
  test('split half within a subject: even vs odd repeats, Spearman-Brown upper bound', async () => {
    const engine = await cpuEngine();
    const sh = fx.split_half;
    const { n, p, k } = sh;
    const reps = f32(sh.reps);
    const half = (start: number) => {
      const out = new Float32Array(n * p);
      let count = 0;
      for (let r = start; r < k; r += 2, count++) for (let t = 0; t < n * p; t++) out[t] += reps[r * n * p + t];
      return matrix(out.map((x) => x / count), n, p);
    };
    const [even, odd] = [half(0), half(1)];
    const [ra, rb] = [(await patternRdm(engine, even, 'correlation')).values, (await patternRdm(engine, odd, 'correlation')).values];
    for (const m of ['spearman', 'pearson', 'kendall_tau_a'] as const) {
      const c = rdmCeilingSplitHalf(ra, rb, m);
      expect(c.lower).toBeCloseTo(sh[m].lower, 5);
      expect(c.upper).toBeCloseTo(sh[m].upper, 5);
    }
    const c = ckaCeilingSplitHalf(await centredGram(engine, even), await centredGram(engine, odd));
    expect(c.linear.lower).toBeCloseTo(sh.cka_linear.lower, 5);
    expect(c.linear.upper).toBeCloseTo(sh.cka_linear.upper, 5);
    expect(c.debiased.lower).toBeCloseTo(sh.cka_debiased.lower, 5);
    expect(c.debiased.upper).toBeCloseTo(sh.cka_debiased.upper, 5);
  });
});
