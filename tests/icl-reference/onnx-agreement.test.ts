// The shipped reference in-context encoder, run by ONNX Runtime from Node, against PyTorch's own
// outputs on committed inputs (tests/fixtures/icl/make_fixtures.py).
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { FIXTURE_DIR, MODEL_DIR, cpuEngine, releaseEngine, maxAbsDiff, onnxFileGraph, readNpyFile } from './helpers';

const fixture = (name: string) => readNpyFile(join(FIXTURE_DIR, `${name}.npy`));
const REFERENCE = join(MODEL_DIR, 'reference.onnx');
const TOLERANCE = 1e-4;

describe('reference in-context encoder (ONNX) agrees with PyTorch', () => {
  afterAll(releaseEngine);

  test('file size and contract metadata', () => {
    expect(statSync(REFERENCE).size).toBeLessThanOrEqual(25 * 1024 * 1024);
    const model = onnx.ModelProto.decode(readFileSync(REFERENCE));
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(meta['brainalign.feature_width']).toBe('512');
    expect(Number(meta['brainalign.max_context'])).toBeGreaterThanOrEqual(100);
    expect(meta['brainalign.architecture']).toMatch(/BraInCoRL/);
    expect(model.graph?.input?.map((i) => i.name)).toEqual(['ic_img', 'ic_nrn']);
    expect(model.graph?.output?.map((o) => o.name)).toEqual(['weights']);
  });

  test('weights-only variant: weights within 1e-4', async () => {
    const engine = await cpuEngine();
    const out = await engine.run(onnxFileGraph(REFERENCE, ['ic_img', 'ic_nrn'], ['weights']), { ic_img: fixture('ic_img'), ic_nrn: fixture('ic_nrn') });
    const expected = fixture('weights');
    expect(out.weights.dims).toEqual(expected.dims);
    expect(maxAbsDiff(out.weights.data as Float32Array, expected.data)).toBeLessThan(TOLERANCE);
  });

  test('three-input variant: weights and pred within 1e-4', async () => {
    const engine = await cpuEngine();
    const graph = onnxFileGraph(join(FIXTURE_DIR, 'reference-with-prediction.onnx'), ['ic_img', 'ic_nrn', 'unknown_img'], ['weights', 'pred']);
    const out = await engine.run(graph, { ic_img: fixture('ic_img'), ic_nrn: fixture('ic_nrn'), unknown_img: fixture('unknown_img') });
    expect(maxAbsDiff(out.weights.data as Float32Array, fixture('weights').data)).toBeLessThan(TOLERANCE);
    expect(out.pred.dims).toEqual(fixture('pred').dims);
    expect(maxAbsDiff(out.pred.data as Float32Array, fixture('pred').data)).toBeLessThan(TOLERANCE);
  });

  test('the context is a set: permuting it leaves the weights unchanged; voxels are independent', async () => {
    const engine = await cpuEngine();
    const graph = onnxFileGraph(REFERENCE, ['ic_img', 'ic_nrn'], ['weights']);
    const img = fixture('ic_img');
    const nrn = fixture('ic_nrn');
    const [B, S, E] = img.dims;
    // Reverse the context order and keep only the first 5 voxels.
    const b = 5;
    const pImg = new Float32Array(b * S * E);
    const pNrn = new Float32Array(b * S);
    for (let v = 0; v < b; v++) {
      for (let s = 0; s < S; s++) {
        pImg.set(img.data.subarray((v * S + s) * E, (v * S + s + 1) * E), (v * S + (S - 1 - s)) * E);
        pNrn[v * S + (S - 1 - s)] = nrn.data[v * S + s];
      }
    }
    const out = await engine.run(graph, { ic_img: { data: pImg, dims: [b, S, E] }, ic_nrn: { data: pNrn, dims: [b, S] } });
    const expected = fixture('weights').data.subarray(0, b * (E + 1));
    expect(B).toBeGreaterThan(b);
    expect(maxAbsDiff(out.weights.data as Float32Array, expected)).toBeLessThan(TOLERANCE);
  });
});
