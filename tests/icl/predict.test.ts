// The caller's side of the contract, seen from inside the encoder: a probe model that reports
// what it was fed shows unit-norm image rows, per-voxel z-scored responses (ddof 0), and the
// weights mapped back to the raw scale (w sd, b sd + mean; constant voxels w = 0, b = mean).
import { sharedEngine } from '../../src/compute/engine-instance';
import { loadEncoder } from '../../src/compute/icl/encoder';
import { predictWeights, unitNormRows } from '../../src/compute/icl/predict';
import { GraphBuilder } from '../../src/compute/onnx';
import { Rng } from '../../src/compute/random';
import { withContribOps } from './encoders';

const E = 4;

/** weights[b] = [mean_s z, mean_s z^2, squared norm of image 0, S, bias = mean_s z^3]. */
function probeEncoder(threeInput: boolean): Uint8Array {
  const g = new GraphBuilder('probe');
  const img = g.input('ic_img', 'float32', ['B', 'S', E]);
  const z = g.input('ic_nrn', 'float32', ['B', 'S']);
  if (threeInput) g.input('unknown_img', 'float32', ['B', 'Q', E]);
  const mean = (x: string) => g.node('ReduceMean', [x], { axes: [1], keepdims: 1 });
  const z2 = g.node('Mul', [z, z]);
  const first = g.node('Slice', [img, g.ints([0]), g.ints([1]), g.ints([1])]);
  const norm2 = g.node('ReduceSum', [g.node('Mul', [first, first]), g.ints([1, 2])], { keepdims: 0 });
  const count = g.node('ReduceSum', [g.node('Add', [g.node('Mul', [z, g.constant([0], 'float32', [])]), g.constant([1], 'float32', [])]), g.ints([1])], { keepdims: 1 });
  const cols = [mean(z), mean(z2), g.node('Unsqueeze', [norm2, g.ints([1])]), count, mean(g.node('Mul', [z2, z]))];
  g.output(g.node('Concat', cols, { axis: 1 }), 'weights', 'float32', ['B', E + 1]);
  return withContribOps(g.build().bytes, []);
}

describe('predictWeights', () => {
  it.each([false, true])('feeds unit-norm images and z-scored responses and rescales the weights (three inputs: %s)', async (threeInput) => {
    const rng = new Rng(5);
    const S = 7;
    const V = 5;
    const x = unitNormRows({ data: rng.fillNormal(new Float32Array(S * E), 3), rows: S, cols: E });
    const y = rng.fillNormal(new Float32Array(S * V), 2);
    for (let s = 0; s < S; s++) {
      y[s * V + 1] += 10; // a large mean
      y[s * V + 3] = 4.5; // a constant voxel
    }
    const engine = await sharedEngine();
    const encoder = loadEncoder(probeEncoder(threeInput));
    const out = await predictWeights(engine, encoder, x, { data: y, rows: S, cols: V }, { batchVoxels: 2 });
    expect(out.constantVoxels).toBe(1);
    for (let v = 0; v < V; v++) {
      const col = Array.from({ length: S }, (_, s) => y[s * V + v]);
      const m = col.reduce((a, t) => a + t, 0) / S;
      const sd = Math.sqrt(col.reduce((a, t) => a + (t - m) ** 2, 0) / S);
      const zs = col.map((t) => (t - m) / sd);
      const w = (j: number) => out.weights[j * V + v];
      if (v === 3) {
        expect([0, 1, 2, 3].map(w)).toEqual([0, 0, 0, 0]);
        expect(out.intercept[v]).toBeCloseTo(4.5, 5);
        continue;
      }
      expect(w(0) / sd).toBeCloseTo(0, 5); // mean of z
      expect(w(1) / sd).toBeCloseTo(1, 5); // mean of z^2 (ddof 0)
      expect(w(2) / sd).toBeCloseTo(1, 5); // unit-norm image rows
      expect(w(3) / sd).toBeCloseTo(S, 4);
      expect((out.intercept[v] - m) / sd).toBeCloseTo(zs.reduce((a, t) => a + t ** 3, 0) / S, 4);
    }
  });
});
