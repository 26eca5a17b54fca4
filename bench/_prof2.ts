import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync } from 'node:fs';
import { GraphBuilder } from '../src/compute/onnx/graph';
async function main() {
  const d = 768, vb = 4096, nf = 5, nv = 1800;
  const g = new GraphBuilder('c');
  const T = process.env.T === '1'; const xs = Array.from({ length: nf }, (_, f) => g.input(`X${f}`, 'float32', T ? ['d', `n${f}`] : [`n${f}`, 'd']));
  const ys = Array.from({ length: nf }, (_, f) => g.input(`Y${f}`, 'float32', [`n${f}`, 'v']));
  const parts = ys.map((y, f) => {
    g.output(g.node('ReduceSum', [y, g.ints([0])], { keepdims: 0 }), `sy${f}`, 'float32', ['v']);
    if (process.env.MODE === 'mul') g.output(g.node('ReduceSum', [g.node('Mul', [y, y]), g.ints([0])], { keepdims: 0 }), `syy${f}`, 'float32', ['v']);
    else g.output(g.node('ReduceSumSquare', [y], { axes: [0], keepdims: 0 }), `syy${f}`, 'float32', ['v']);
    return g.output(T ? g.node('MatMul', [xs[f], y]) : g.node('Gemm', [xs[f], y], { transA: 1 }), `Z${f}`, 'float32', ['d', 'v']);
  });
  g.output(g.node('Sum', parts), 'Ztot', 'float32', ['d', 'v']);
  const s = await ort.InferenceSession.create(g.build().bytes, { interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: '/tmp/prof/ort', extra: { session: { intra_op: { allow_spinning: '0' } } } });
  const rnd = (n: number) => new Float32Array(n).map(() => Math.random());
  const feeds: Record<string, ort.Tensor> = {};
  for (let f = 0; f < nf; f++) { feeds[`X${f}`] = new ort.Tensor('float32', rnd(nv * d), T ? [d, nv] : [nv, d]); feeds[`Y${f}`] = new ort.Tensor('float32', rnd(nv * vb), [nv, vb]); }
  let best = 1e9;
  for (let i = 0; i < 5; i++) { const t = performance.now(); await s.run(feeds); best = Math.min(best, performance.now() - t); }
  console.log(`cross graph: best ${best.toFixed(1)} ms, ${(2 * nf * nv * d * vb / best / 1e6).toFixed(0)} GFLOP/s`);
  s.endProfiling(); const file = '/tmp/prof/' + readdirSync('/tmp/prof').filter((f) => f.startsWith('ort')).sort().pop();
  const ev = JSON.parse(readFileSync(file, 'utf8')) as { name: string; dur: number; cat: string; args?: { op_name?: string } }[];
  const agg = new Map<string, number>();
  for (const e of ev) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) { const k = e.args?.op_name ?? e.name; agg.set(k, (agg.get(k) ?? 0) + e.dur); }
  const runs = ev.filter((e) => e.name === 'model_run').length;
  console.log([...agg].map(([k, v]) => `${k} ${(v / 1000 / runs).toFixed(1)}ms`).join(', '));
}
main();
