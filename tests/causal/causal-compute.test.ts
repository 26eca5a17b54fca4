// The causal test's compute path against plain references: predictions and contrasts against a
// direct JS computation, batching over voxels not changing any number, the seeded split keeping
// pairs together, and the decision rule on hand-built units.
import { runCausalTest } from '../../src/compute/causal/causal-test';
import { classify, CLASS, countClasses } from '../../src/compute/causal/classify';
import { designContrasts } from '../../src/compute/causal/contrasts';
import { splitDesign, type CausalDesign } from '../../src/compute/causal/design';
import { Engine, matrix } from '../../src/compute/onnx';
import { Rng } from '../../src/compute/random';

const range = (start: number, n: number) => Int32Array.from({ length: n }, (_, i) => start + i);
const design: CausalDesign = {
  positives: range(0, 10),
  counterfactuals: range(10, 10),
  distractors: [
    { cue: 'a', rows: range(20, 6) },
    { cue: 'b', rows: range(26, 8) },
  ],
  baseline: range(34, 9),
};

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ executionProvider: 'cpu' });
});

describe('splitDesign', () => {
  it('splits every group in two disjoint halves, keeps each positive with its counterfactual, and is seeded', () => {
    const s = splitDesign(design, 4);
    expect(s.discovery.positives.length + s.heldOut.positives.length).toBe(10);
    const all = [...s.discovery.positives, ...s.heldOut.positives].sort((a, b) => a - b);
    expect(all).toEqual(Array.from(design.positives));
    for (const half of [s.discovery, s.heldOut]) half.positives.forEach((p, i) => expect(half.counterfactuals[i]).toBe(p + 10));
    expect(s.heldOut.distractors[1].rows.length).toBe(4);
    expect(splitDesign(design, 4)).toEqual(s);
    expect(splitDesign(design, 5)).not.toEqual(s);
  });
});

describe('runCausalTest', () => {
  const rng = new Rng(11);
  const n = 43;
  const d = 6;
  const v = 23;
  const X = matrix(rng.fillNormal(new Float32Array(n * d), 1), n, d);
  const W = matrix(rng.fillNormal(new Float32Array((d + 1) * v), 1), d + 1, v);
  const rois = [
    { name: 'A', voxels: [0, 1, 2, 3, 4] },
    { name: 'B', voxels: [4, 5, 6, 20, 22] },
  ];

  /** [x, 1] @ W in float64, rows optionally L2-normalised first. */
  function reference(unitNorm: boolean) {
    const y = new Float64Array(n * v);
    for (let i = 0; i < n; i++) {
      let norm = 0;
      for (let k = 0; k < d; k++) norm += X.data[i * d + k] ** 2;
      const s = unitNorm ? 1 / Math.sqrt(norm) : 1;
      for (let j = 0; j < v; j++) {
        let acc = W.data[d * v + j];
        for (let k = 0; k < d; k++) acc += X.data[i * d + k] * s * W.data[k * v + j];
        y[i * v + j] = acc;
      }
    }
    return matrix(y, n, v);
  }

  for (const unitNorm of [false, true]) {
    it(`matches contrasts of a direct prediction (unit-norm features: ${unitNorm}), whatever the voxel batch`, async () => {
      const input = { features: X, weights: W, unitNormFeatures: unitNorm, design, splitSeed: 1, rois, thresholds: { fdrQ: 0.1, minEffect: 0.2 }, topPairs: 3 };
      const whole = await runCausalTest(engine, { ...input, voxelBatch: 4096 });
      const batched = await runCausalTest(engine, { ...input, voxelBatch: 7 });
      const y = reference(unitNorm);
      const expected = designContrasts(y, whole.split.heldOut);
      for (let j = 0; j < v; j++) {
        expect(whole.voxels.heldOut.causal.effect[j]).toBeCloseTo(expected.causal.effect[j], 4);
        expect(whole.voxels.heldOut.distractors[1].p[j]).toBeCloseTo(expected.distractors[1].p[j], 4);
        expect(batched.voxels.heldOut.activation.effect[j]).toBe(whole.voxels.heldOut.activation.effect[j]);
      }
      expect(Array.from(batched.voxels.classification.classes)).toEqual(Array.from(whole.voxels.classification.classes));
      expect(Array.from(batched.voxels.topPairIndex)).toEqual(Array.from(whole.voxels.topPairIndex));
      // ROI units are ROI-mean responses.
      const means = new Float64Array(n * 2);
      rois.forEach((roi, r) => {
        for (let i = 0; i < n; i++) means[i * 2 + r] = roi.voxels.reduce((a, j) => a + y.data[i * v + j], 0) / roi.voxels.length;
      });
      const roiExpected = designContrasts(matrix(means, n, 2), whole.split.discovery);
      for (let r = 0; r < 2; r++) expect(whole.rois.discovery.causal.meanDiff[r]).toBeCloseTo(roiExpected.causal.meanDiff[r], 4);
      // Top pairs are the largest predicted differences.
      const j = 3;
      const diffs = Array.from(design.positives, (p, i) => y.data[p * v + j] - y.data[design.counterfactuals[i] * v + j]);
      const top = [...diffs.keys()].sort((a, b) => diffs[b] - diffs[a]).slice(0, 3);
      expect(Array.from(whole.voxels.topPairIndex.subarray(j * 3, j * 3 + 3))).toEqual(top);
    });
  }
});

describe('classify', () => {
  // Columns: 0 causal (concept raises the response, distractors lower), 1 cue-driven (positives,
  // counterfactuals and distractors alike, above baseline), 2 nothing.
  const rng = new Rng(2);
  const rows = 43;
  const y = new Float64Array(rows * 3);
  const isPos = (i: number) => i < 10;
  const isBase = (i: number) => i >= 34;
  for (let i = 0; i < rows; i++) {
    y[i * 3] = (isPos(i) ? 3 : 0) + 0.3 * rng.normal();
    y[i * 3 + 1] = (isBase(i) ? 0 : 3) + 0.3 * rng.normal();
    y[i * 3 + 2] = 0.3 * rng.normal();
  }
  it('validates the causal unit, calls the cue-driven one activation-only and the rest neither', () => {
    const s = splitDesign(design, 0);
    const c = classify(designContrasts(matrix(y, rows, 3), s.discovery), designContrasts(matrix(y, rows, 3), s.heldOut), { fdrQ: 0.05, minEffect: 1 });
    expect(Array.from(c.classes)).toEqual([CLASS.VALIDATED_CAUSAL, CLASS.ACTIVATION_ONLY, CLASS.NEITHER]);
    expect(countClasses(c)).toEqual({ validatedCausal: 1, activationOnly: 1, neither: 1, activationPositive: 2, falsePositiveFraction: 0.5 });
    // An effect threshold above every effect leaves nothing.
    const strict = classify(designContrasts(matrix(y, rows, 3), s.discovery), designContrasts(matrix(y, rows, 3), s.heldOut), { fdrQ: 0.05, minEffect: 1000 });
    expect(Array.from(strict.classes)).toEqual([0, 0, 0]);
  });
});
