import { pearsonR } from '../../src/compute/metrics';
import { affine, matrix } from '../../src/compute/onnx';
import { ridgeCv } from '../../src/compute/ridge';
import { noiseCeiling } from '../../src/compute/stats';
import {
  averageRepeats,
  conceptCausalPlant,
  defaultSyntheticConfig,
  generateSynthetic,
  roiSet,
  takeRows,
  trueNoiseCeilingPercent,
} from '../../src/compute/synthetic';
import { cpuEngine } from './helpers';

const sameBytes = (x: ArrayBufferView, y: ArrayBufferView) =>
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));

const small = (overrides = {}) =>
  defaultSyntheticConfig({
    seed: 42,
    nLatent: 12,
    nSharedTest: 300,
    nTrainPerSubject: 600,
    backbones: [
      { name: 'clip', width: 32 },
      { name: 'dino', width: 48 },
    ],
    subjects: [
      { id: 'subj01', rois: roiSet(1, 20) },
      { id: 'subj02', rois: roiSet(0.7, 20) },
    ],
    snrRange: [0.3, 2],
    ...overrides,
  });

describe('synthetic NSD-like data', () => {
  test('is deterministic from the seed and shaped by the config', () => {
    const a = generateSynthetic(small());
    const b = generateSynthetic(small());
    const c = generateSynthetic(small({ seed: 43 }));
    expect(sameBytes(a.subjects[0].train.data, b.subjects[0].train.data)).toBe(true);
    expect(sameBytes(a.features.clip.data, b.features.clip.data)).toBe(true);
    expect(sameBytes(a.subjects[0].train.data, c.subjects[0].train.data)).toBe(false);
    expect(a.features.clip.cols).toBe(32);
    expect(a.features.dino.cols).toBe(48);
    expect(a.subjects.map((s) => s.nVoxels)).toEqual([20 + 12 + 6 + 7 + 6, 14 + 8 + 4 + 5 + 4]);
    expect(a.subjects[0].rois.map((r) => r.name)).toEqual(['V1', 'V4', 'FFA', 'PPA', 'EBA']);
    expect(a.stimuli).toHaveLength(300 + 2 * 600);
    expect(Array.from(a.subjects[0].testStimuli)).toEqual(Array.from(a.subjects[1].testStimuli));
    const trainSets = a.subjects.map((s) => new Set(s.trainStimuli));
    expect([...trainSets[0]].some((i) => trainSets[1].has(i))).toBe(false);
    expect(a.stimuli[0].caption).toMatch(/^a \w+/);
    expect(a.subjects[0].train.data.length).toBe(3 * 600 * a.subjects[0].nVoxels);
  });

  test('noise ceiling of the shared test set matches the closed form for the planted SNR', () => {
    const data = generateSynthetic(small({ nSharedTest: 5000, nTrainPerSubject: 10, subjects: [{ id: 's', rois: roiSet(1, 8) }] }));
    const subj = data.subjects[0];
    const nc = noiseCeiling(subj.test, { nAveraged: 3 });
    for (let j = 0; j < subj.nVoxels; j++) {
      expect(Math.abs(nc.ncsnr[j] - subj.snr[j])).toBeLessThan(0.06 * Math.max(1, subj.snr[j]));
      expect(Math.abs(nc.ncPercent[j] - trueNoiseCeilingPercent(subj.snr[j], 3))).toBeLessThan(2.5);
    }
  });

  test('ridge on the latent factors recovers the planted weights', async () => {
    const engine = await cpuEngine();
    const data = generateSynthetic(small({ nTrainPerSubject: 2000, snrRange: [1, 2], subjects: [{ id: 'subj01', rois: roiSet(1, 20) }] }));
    const subj = data.subjects[0];
    const X = takeRows(data.latents, subj.trainStimuli);
    const fit = await ridgeCv(engine, matrix(Float32Array.from(X.data), X.rows, X.cols), averageRepeats(subj.train), {
      alphas: [0.1, 1, 10, 100, 1000],
      fitIntercept: true,
    });
    const L = data.config.nLatent;
    const v = subj.nVoxels;
    for (let j = 0; j < v; j++) {
      const planted = Float64Array.from({ length: L }, (_, k) => (subj.snr[j] * subj.latentWeights.data[k * v + j]) / subj.signalScale[j]);
      const recovered = Float64Array.from({ length: L }, (_, k) => fit.weights[k * v + j]);
      const r = pearsonR(matrix(planted, L, 1), matrix(recovered, L, 1))[0];
      expect(r).toBeGreaterThan(0.95);
    }
  });

  test('encoding models on backbone features approach the noise ceiling; plants are recorded', async () => {
    const engine = await cpuEngine();
    const data = generateSynthetic(
      small({ nTrainPerSubject: 2000, subjects: [{ id: 'subj01', rois: roiSet(1, 20) }], plants: [conceptCausalPlant('FFA', 'face', 0.5, 1.5)] }),
    );
    const subj = data.subjects[0];
    expect((subj.planted['conceptCausal:FFA'] as Int32Array).length).toBeGreaterThan(0);
    const X = takeRows(data.features.dino, subj.trainStimuli);
    const fit = await ridgeCv(engine, X, averageRepeats(subj.train), { alphas: [1, 10, 100, 1000, 1e4], fitIntercept: true });
    const pred = await affine(engine, takeRows(data.features.dino, subj.testStimuli), matrix(fit.weights, X.cols, subj.nVoxels), fit.intercept);
    const r = pearsonR(averageRepeats(subj.test), pred);
    const ceiling = Float64Array.from(subj.snr, (s) => Math.sqrt(trueNoiseCeilingPercent(s, 3) / 100));
    let below = 0;
    for (let j = 0; j < subj.nVoxels; j++) if (r[j] < ceiling[j] + 0.1) below++;
    expect(below).toBe(subj.nVoxels);
    expect(pearsonR(matrix(ceiling, subj.nVoxels, 1), matrix(r, subj.nVoxels, 1))[0]).toBeGreaterThan(0.7);
  });
});
