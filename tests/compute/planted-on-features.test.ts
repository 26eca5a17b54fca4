// generatePlantedOnFeatures on layers with a known overlap: layer b repeats three columns of layer
// a and adds three of its own, so the readouts of b that a explains least are (close to) b's own
// columns, and a's readouts are its columns that b does not repeat.
import { generatePlantedOnFeatures } from '../../src/compute/sweep/planted-layers';
import { defaultSyntheticConfig, roiSet } from '../../src/compute/synthetic';
import { Rng } from '../../src/compute/random';

test('readouts come from the directions the other layer does not share', () => {
  const config = defaultSyntheticConfig({ seed: 7, nTrainPerSubject: 200, nSharedTest: 100, subjects: [{ id: 's1', rois: roiSet(0.1) }] });
  const n = 300;
  const rng = new Rng('planted-on-features');
  const a = new Float32Array(n * 6);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  const b = new Float32Array(n * 6);
  for (let s = 0; s < n; s++)
    for (let j = 0; j < 6; j++) b[s * 6 + j] = j < 3 ? 2 * a[s * 6 + j] : rng.normal();
  const data = generatePlantedOnFeatures(config, {
    layerFeatures: { a: { data: a, rows: n, cols: 6 }, b: { data: b, rows: n, cols: 6 } },
    roiLayer: { V1: 'a', FFA: 'b' },
  });
  // Independent columns share about 3/300 of their variance with another layer's 6 columns by
  // chance; a shared column would share all of it.
  for (const layer of ['a', 'b']) {
    expect(data.explainedByOthers[layer]).toHaveLength(2);
    for (const v of data.explainedByOthers[layer]) expect(v).toBeLessThan(0.05);
  }
  expect(data.layerNames).toEqual(['a', 'b']);
  expect(data.features.b.data).toBe(b);
  expect(data.subjects[0].planted).toMatchObject({ 'layer:V1': 'a', 'layer:FFA': 'b' });
});

test('refuses features whose rows do not match the stimuli, and unknown layers', () => {
  const config = defaultSyntheticConfig({ seed: 7, nTrainPerSubject: 20, nSharedTest: 10, subjects: [{ id: 's1', rois: roiSet(0.1) }] });
  const X = { data: new Float32Array(29 * 2), rows: 29, cols: 2 };
  expect(() => generatePlantedOnFeatures(config, { layerFeatures: { a: X }, roiLayer: { V1: 'a' } })).toThrow(/29 rows for 30 stimuli/);
  const Y = { data: new Float32Array(30 * 2), rows: 30, cols: 2 };
  expect(() => generatePlantedOnFeatures(config, { layerFeatures: { a: Y }, roiLayer: { V1: 'z' } })).toThrow(/unknown layer z/);
});
