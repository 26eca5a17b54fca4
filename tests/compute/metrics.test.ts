import { explainedVariance, pearsonR, r2Score } from '../../src/compute/metrics';
import { matrix } from '../../src/compute/onnx';
import { Rng } from '../../src/compute/random';
import { VoxelMomentsAccumulator, ceilingNormalize, noiseCeiling, percentile, roiBootstrap } from '../../src/compute/stats';
import { cpuEngine, fixture, maxRelativeError } from './helpers';

const fx = fixture('metrics.json');
const y = matrix(Float64Array.from(fx.y as number[]), fx.n, fx.v);
const yhat = matrix(Float64Array.from(fx.yhat as number[]), fx.n, fx.v);

describe('voxel metrics against scipy/sklearn', () => {
  test('pearson r matches scipy.stats.pearsonr', () => {
    expect(maxRelativeError(pearsonR(y, yhat), fx.pearsonr)).toBeLessThan(1e-10);
  });
  test('explained variance matches sklearn explained_variance_score', () => {
    expect(maxRelativeError(explainedVariance(y, yhat), fx.explainedVariance)).toBeLessThan(1e-10);
  });
  test('R^2 matches sklearn r2_score', () => {
    expect(maxRelativeError(r2Score(y, yhat), fx.r2)).toBeLessThan(1e-10);
  });
  test('large offsets do not cancel (float32 data, offset 1e4)', () => {
    const n = 200;
    const rng = new Rng(3);
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = rng.normal();
      a[i] = 1e4 + s;
      b[i] = 1e4 + s + 0.5 * rng.normal();
    }
    const ref = pearsonR(matrix(Float64Array.from(a, (x) => x - 1e4), n, 1), matrix(Float64Array.from(b, (x) => x - 1e4), n, 1));
    expect(Math.abs(pearsonR(matrix(a, n, 1), matrix(b, n, 1))[0] - ref[0])).toBeLessThan(1e-6);
  });
  test('constant voxels follow the policy', () => {
    const c = matrix(new Float64Array([1, 1, 1]), 3, 1);
    const p = matrix(new Float64Array([1, 2, 3]), 3, 1);
    expect(pearsonR(c, p)[0]).toBeNaN();
    expect(r2Score(c, p, 'zero')[0]).toBe(0);
  });
});

describe('bootstrap ROI summaries', () => {
  test('match numpy with the same committed resampling indices', async () => {
    const engine = await cpuEngine();
    const summaries = await roiBootstrap(engine, y, yhat, fx.rois, { metric: 'pearson', indices: fx.bootstrapIndices, voxelBatch: 4 });
    for (const s of summaries) {
      const ref = fx.bootstrap[s.roi];
      expect(s.mean).toBeCloseTo(ref.mean, 10);
      expect(s.median).toBeCloseTo(ref.median, 10);
      for (const [got, want] of [
        [s.meanCi[0], ref.meanLow],
        [s.meanCi[1], ref.meanHigh],
        [s.medianCi[0], ref.medianLow],
        [s.medianCi[1], ref.medianHigh],
      ]) {
        expect(Math.abs(got - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
      }
    }
  });
  test('n counts the voxels averaged: a voxel constant over the stimuli is left out and counted apart', async () => {
    const engine = await cpuEngine();
    const n = 12;
    const yData = Float64Array.from({ length: n * 3 }, (_, i) => (i % 3 === 1 ? 2.5 : Math.sin(i)));
    const pData = Float64Array.from({ length: n * 3 }, (_, i) => Math.sin(i) + 0.3 * Math.cos(3 * i));
    const [all] = await roiBootstrap(engine, matrix(yData, n, 3), matrix(pData, n, 3), { all: [0, 1, 2] }, { metric: 'pearson', nBootstrap: 20 });
    expect(all.nVoxels).toBe(2);
    expect(all.nUndefined).toBe(1);
    const r = pearsonR(matrix(yData, n, 3), matrix(pData, n, 3));
    expect(all.mean).toBeCloseTo((r[0] + r[2]) / 2, 6);
  });
  test('seeded resampling is reproducible', async () => {
    const engine = await cpuEngine();
    const a = await roiBootstrap(engine, y, yhat, fx.rois, { metric: 'explainedVariance', nBootstrap: 50, seed: 11 });
    const b = await roiBootstrap(engine, y, yhat, fx.rois, { metric: 'explainedVariance', nBootstrap: 50, seed: 11 });
    expect(a).toEqual(b);
    expect(a[0].meanCi[0]).toBeLessThan(a[0].mean);
    expect(a[0].meanCi[1]).toBeGreaterThan(a[0].mean);
  });
  test('percentile interpolates like numpy', () => {
    expect(percentile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(percentile([5], 0.975)).toBe(5);
  });
});

describe('noise ceiling', () => {
  test('matches the NSD formula computed in numpy', () => {
    const r = fx.repeats;
    const nc3 = noiseCeiling({ data: Float64Array.from(r.data), nReps: r.shape[0], nStimuli: r.shape[1], nVoxels: r.shape[2] }, { nAveraged: 3 });
    const nc1 = noiseCeiling({ data: Float64Array.from(r.data), nReps: r.shape[0], nStimuli: r.shape[1], nVoxels: r.shape[2] }, { nAveraged: 1 });
    expect(maxRelativeError(nc3.ncsnr, r.ncsnr)).toBeLessThan(1e-10);
    expect(maxRelativeError(nc3.ncPercent, r.ncPercent3)).toBeLessThan(1e-10);
    expect(maxRelativeError(nc1.ncPercent, r.ncPercent1)).toBeLessThan(1e-10);
  });
  test('recovers a planted SNR in closed form with many stimuli', () => {
    // beta = signal (sd s) + noise (sd 1): ncsnr = s, NC% = 100 s^2 / (s^2 + 1/k).
    const snr = [0, 0.25, 0.5, 1, 2];
    const nReps = 3;
    const nStimuli = 20000;
    const v = snr.length;
    const rng = new Rng(5);
    const data = new Float32Array(nReps * nStimuli * v);
    for (let s = 0; s < nStimuli; s++) {
      for (let j = 0; j < v; j++) {
        const signal = snr[j] * rng.normal() + 3;
        for (let r = 0; r < nReps; r++) data[(r * nStimuli + s) * v + j] = signal + rng.normal();
      }
    }
    const nc = noiseCeiling({ data, nReps, nStimuli, nVoxels: v }, { nAveraged: 3 });
    snr.forEach((s, j) => {
      expect(Math.abs(nc.ncsnr[j] - s)).toBeLessThan(0.03);
      const closed = (100 * s * s) / (s * s + 1 / 3);
      expect(Math.abs(nc.ncPercent[j] - closed)).toBeLessThan(2);
    });
  });
  test('normalised scores above 1 are flagged, not clipped', () => {
    const out = ceilingNormalize([0.3, 0.5, -0.2, 0.1], [50, 40, 50, 0], { squareCorrelation: true });
    expect(Array.from(out.normalized.slice(0, 3))).toEqual([0.18, 0.625, -0.08].map((x) => expect.closeTo(x, 12)) as never);
    const ev = ceilingNormalize([0.6, 0.2], [50, 50]);
    expect(ev.normalized[0]).toBeCloseTo(1.2, 12);
    expect(Array.from(ev.aboveCeiling)).toEqual([1, 0]);
    expect(ev.nAboveCeiling).toBe(1);
    expect(out.normalized[3]).toBeNaN();
  });
});

describe('streaming moments', () => {
  test('chunked pushes equal a two-pass float64 computation, with a large offset', () => {
    const rng = new Rng(9);
    const v = 7;
    const rows = 1001;
    const all = new Float32Array(rows * v);
    for (let i = 0; i < all.length; i++) all[i] = 1e5 + (i % v) + rng.normal() * (1 + (i % v));
    const acc = new VoxelMomentsAccumulator(v);
    let start = 0;
    for (const size of [1, 13, 400, 0, 587]) {
      acc.push(all.subarray(start * v, (start + size) * v));
      start += size;
    }
    const other = new VoxelMomentsAccumulator(v);
    // merge of two halves gives the same
    const a = new VoxelMomentsAccumulator(v).push(all.subarray(0, 500 * v));
    other.push(all.subarray(500 * v)).merge(a);
    for (let j = 0; j < v; j++) {
      let m = 0;
      for (let i = 0; i < rows; i++) m += all[i * v + j];
      m /= rows;
      let ss = 0;
      for (let i = 0; i < rows; i++) ss += (all[i * v + j] - m) ** 2;
      expect(acc.mean()[j]).toBeCloseTo(m, 8);
      expect(acc.variance(1)[j] / (ss / (rows - 1))).toBeCloseTo(1, 10);
      expect(other.variance(0)[j] / (ss / rows)).toBeCloseTo(1, 10);
      expect(acc.count[j]).toBe(rows);
    }
  });
});
