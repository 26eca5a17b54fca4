import { ComputeError } from '../../src/compute/errors';
import { Engine, GraphBuilder, affine, gemm, matrix } from '../../src/compute/onnx';
import { cpuEngine } from './helpers';

describe('ONNX engine', () => {
  test('builds, caches and runs a graph; subarray views are read at their offset', async () => {
    const engine = await Engine.create({ executionProvider: 'cpu' });
    const base = new Float64Array(20).map((_, i) => i);
    const a = matrix(base.subarray(2, 8), 2, 3); // [[2,3,4],[5,6,7]]
    const c = await gemm(engine, a, a, { transA: true });
    expect(Array.from(c.data)).toEqual([29, 36, 43, 36, 45, 54, 43, 54, 65]);
    const before = engine.sessionCount;
    await gemm(engine, a, a, { transA: true });
    expect(engine.sessionCount).toBe(before);
    expect(engine.provenance).toMatchObject({ requested: 'cpu', provider: 'cpu' });
    await engine.release();
    expect(engine.sessionCount).toBe(0);
  });

  test('auto falls back to CPU and says why; cuda fails with a coded error when unavailable', async () => {
    const auto = await Engine.create({ executionProvider: 'auto' });
    if (auto.provider === 'cpu') {
      expect(auto.provenance.fallbackReason).toEqual(expect.any(String));
      await expect(Engine.create({ executionProvider: 'cuda' })).rejects.toMatchObject({ code: 'EXECUTION_PROVIDER_UNAVAILABLE' });
    } else {
      expect(auto.provenance.provider).toBe('cuda');
    }
  });

  test('graph builder: attributes, constants and reductions', async () => {
    const engine = await cpuEngine();
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['n', 3]);
    const scaled = g.node('Mul', [x, g.constant([2], 'float32', [1])]);
    g.output(g.node('ReduceSum', [scaled, g.ints([1])], { keepdims: 0 }), 'y', 'float32', ['n']);
    const out = await engine.run(g.build(), { x: { data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] } });
    expect(Array.from(out.y.data as Float32Array)).toEqual([12, 30]);
  });

  test('affine prediction and shape errors', async () => {
    const engine = await cpuEngine();
    const y = await affine(engine, matrix(new Float32Array([1, 2]), 1, 2), matrix(new Float32Array([1, 0, 0, 1]), 2, 2), new Float32Array([10, 20]));
    expect(Array.from(y.data)).toEqual([11, 22]);
    expect(() => matrix(new Float32Array(3), 2, 2)).toThrow(ComputeError);
    await expect(gemm(engine, matrix(new Float32Array(4), 2, 2), matrix(new Float32Array(3), 3, 1))).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
  });
});
