// The causal plants and stimuli of the synthetic generator: true responses to new stimuli follow
// the generator's own formula, cue-driven voxels follow the cue and not the concept, and the
// counterfactual of a positive differs from it in the concept only.
import { syntheticCausalStimuli, syntheticSignal } from '../../src/compute/causal/synthetic-stimuli';
import { conceptFactorPlant, cueDrivenPlant, defaultSyntheticConfig, generateSynthetic, roiSet } from '../../src/compute/synthetic';

const config = defaultSyntheticConfig({
  seed: 5,
  nTrainPerSubject: 200,
  nSharedTest: 20,
  subjects: [{ id: 's', rois: roiSet(0.1) }],
  plants: [conceptFactorPlant('V4', 'food', 0.5, 2), cueDrivenPlant('PPA', 10, 0.5, 3)],
});
const data = generateSynthetic(config);
const s = data.subjects[0];
const food = config.concepts.indexOf('food');
const planted = {
  factors: [
    { voxels: s.planted['conceptFactor:V4'] as Int32Array, axis: food, strength: 2 },
    { voxels: s.planted['cueDriven:PPA'] as Int32Array, axis: 10, strength: 3 },
  ],
};

describe('causal plants', () => {
  it('record their voxels inside the named ROIs', () => {
    const v4 = new Set(s.rois.find((r) => r.name === 'V4')!.voxels);
    const ppa = new Set(s.rois.find((r) => r.name === 'PPA')!.voxels);
    expect((s.planted['conceptFactor:V4'] as Int32Array).length).toBeGreaterThan(0);
    expect([...(s.planted['conceptFactor:V4'] as Int32Array)].every((j) => v4.has(j))).toBe(true);
    expect([...(s.planted['cueDriven:PPA'] as Int32Array)].every((j) => ppa.has(j))).toBe(true);
  });

  it('syntheticSignal reproduces the generator\'s noise-free responses on its own stimuli', () => {
    const L = config.nLatent;
    const rows = Array.from(s.trainStimuli.subarray(0, 30));
    const latents = { data: Float64Array.from(rows.flatMap((i) => Array.from(data.latents.data.subarray(i * L, (i + 1) * L)))), rows: rows.length, cols: L };
    const signal = syntheticSignal(s, { latents, conceptPresent: new Uint8Array(rows.length) }, planted);
    for (let i = 0; i < signal.data.length; i++) expect(signal.data[i]).toBeCloseTo(s.trainSignal.data[i], 4);
  });

  it('counterfactuals differ from their positives in the concept factor only; distractors carry their cue', () => {
    const st = syntheticCausalStimuli(config, { concept: 'food', cues: [{ name: 'table', axis: 10 }], nPositives: 8, nPerDistractorGroup: 5, nBaseline: 6, seed: 2 });
    const L = config.nLatent;
    expect(st.externalIds).toHaveLength(8 + 8 + 5 + 6);
    expect(st.counterfactuals.map((c) => c.positive)).toEqual(st.positives.map((p) => p.externalId));
    for (let i = 0; i < 8; i++) {
      for (let k = 0; k < L; k++) {
        const diff = st.latents.data[i * L + k] - st.latents.data[(8 + i) * L + k];
        expect(diff).toBeCloseTo(k === food ? 2.5 : 0, 12);
      }
      expect(st.latents.data[i * L + 10]).toBeGreaterThan(0.5);
    }
    const cue = Array.from({ length: 5 }, (_, g) => st.latents.data[(16 + g) * L + 10]);
    expect(Math.min(...cue)).toBeGreaterThan(0.5);
    expect(Array.from(st.conceptPresent)).toEqual([...Array(8).fill(1), ...Array(19).fill(0)]);
    // Cue-driven voxels respond to the cue: the same for a positive and its counterfactual.
    const signal = syntheticSignal(s, st, planted);
    const cueVoxel = (s.planted['cueDriven:PPA'] as Int32Array)[0];
    const v = s.nVoxels;
    const causalVoxel = (s.planted['conceptFactor:V4'] as Int32Array)[0];
    const pairDiff = (j: number) => signal.data[0 * v + j] - signal.data[8 * v + j];
    expect(Math.abs(pairDiff(causalVoxel))).toBeGreaterThan(Math.abs(pairDiff(cueVoxel)));
  });
});
