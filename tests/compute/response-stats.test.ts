import { RepeatVariance } from '../../src/compute/response-stats';
import { ceilingNormalize, noiseCeiling, VoxelMomentsAccumulator } from '../../src/compute/stats';
import { nanMedian } from '../../src/compute/metrics';
import { Rng } from '../../src/compute/random';

describe('streamed NSD noise ceiling', () => {
  it('equals the whole-array computation whatever the chunking', () => {
    const [R, N, V] = [3, 57, 9];
    const rng = new Rng(7);
    const data = Float32Array.from({ length: R * N * V }, (_, i) => Math.sin(Math.floor(i / V) % N) * (1 + (i % V)) + rng.normal() * 0.5);
    const reference = noiseCeiling({ data, nReps: R, nStimuli: N, nVoxels: V }, { nAveraged: R });
    for (const rows of [1, 10, N]) {
      const spread = new RepeatVariance(V, R);
      const moments = new VoxelMomentsAccumulator(V);
      for (let start = 0; start < N; start += rows) {
        const count = Math.min(rows, N - start);
        const chunks = [0, 1, 2].map((r) => data.slice((r * N + start) * V, (r * N + start + count) * V));
        chunks.forEach((c) => moments.push(c));
        spread.add(chunks, count);
      }
      const streamed = spread.noiseCeiling(moments.variance(1), R);
      for (let j = 0; j < V; j++) {
        expect(streamed.ncsnr[j]).toBeCloseTo(reference.ncsnr[j], 10);
        expect(streamed.ncPercent[j]).toBeCloseTo(reference.ncPercent[j], 8);
      }
    }
  });

  it('matches the closed form for a planted signal-to-noise ratio', () => {
    // y = s + e with Var(s) = 1, Var(e) = sigma^2: ncsnr = 1 / sigma, NC% = 100 / (1 + sigma^2 / R).
    const [R, N] = [3, 20000];
    const sigmas = [0.5, 1, 2];
    const rng = new Rng(11);
    const V = sigmas.length;
    const signal = Float64Array.from({ length: N * V }, () => rng.normal());
    const spread = new RepeatVariance(V, R);
    const moments = new VoxelMomentsAccumulator(V);
    const reps = [0, 1, 2].map(() => Float32Array.from(signal, (s, i) => s + sigmas[i % V] * rng.normal()));
    reps.forEach((r) => moments.push(r));
    spread.add(reps, N);
    const nc = spread.noiseCeiling(moments.variance(1), R);
    sigmas.forEach((sigma, j) => {
      expect(nc.ncsnr[j]).toBeCloseTo(1 / sigma, 1);
      expect(nc.ncPercent[j]).toBeGreaterThan(100 / (1 + sigma ** 2 / R) - 1.5);
      expect(nc.ncPercent[j]).toBeLessThan(100 / (1 + sigma ** 2 / R) + 1.5);
    });
  });

  it('leaves a voxel constant over every trial undefined (NaN, counted, out of medians and normalisation); exact repeats give 100%', () => {
    // Voxel 0 is constant over every trial (noise variance 0/0), voxel 1 repeats exactly (noise
    // variance 0 with signal: the ceiling's limit, 100%), voxels 2-4 are noisy.
    const [R, N, V] = [3, 40, 5];
    const rng = new Rng(5);
    const signal = Float64Array.from({ length: N * V }, () => rng.normal());
    const reps = [0, 1, 2].map(() =>
      Float32Array.from(signal, (x, i) => {
        const j = i % V;
        return j === 0 ? 4 : j === 1 ? x : x + 0.7 * rng.normal();
      }),
    );
    const data = new Float32Array(R * N * V);
    reps.forEach((r, k) => data.set(r, k * N * V));
    const whole = noiseCeiling({ data, nReps: R, nStimuli: N, nVoxels: V }, { nAveraged: R });
    const spread = new RepeatVariance(V, R);
    const moments = new VoxelMomentsAccumulator(V);
    reps.forEach((r) => moments.push(r));
    spread.add(reps, N);
    const streamed = spread.noiseCeiling(moments.variance(1), R);
    for (const nc of [whole, streamed]) {
      expect(nc.nUndefined).toBe(1);
      expect(nc.ncPercent[0]).toBeNaN();
      expect(nc.ncPercent[1]).toBe(100);
      expect(nc.ncsnr[1]).toBe(Infinity);
      for (let j = 2; j < V; j++) expect(nc.ncPercent[j]).toBeGreaterThan(0);
      const defined = Array.from(nc.ncPercent.subarray(1)).sort((a, b) => a - b);
      expect(nanMedian(nc.ncPercent)).toBeCloseTo((defined[1] + defined[2]) / 2, 12);
      const normalized = ceilingNormalize([0.5, 0.5, 0.5, 0.5, 0.5], nc.ncPercent).normalized;
      expect(normalized[0]).toBeNaN();
      expect(normalized[1]).toBeCloseTo(0.5, 12);
      expect(normalized[2]).toBeCloseTo(0.5 / (nc.ncPercent[2] / 100), 12);
    }
  });
});
