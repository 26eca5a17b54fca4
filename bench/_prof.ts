import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync } from 'node:fs';
import { GraphBuilder } from '../src/compute/onnx/graph';
async function main() {
  const na = 10, r = 768, d = 768, vb = 4096, br = Number(process.env.BR ?? 128);
  const blocks: [number, number][] = []; for (let s = 0; s < r; s += br) blocks.push([s, Math.min(br, r - s)]);
  const g = new GraphBuilder('p');
  const zTot = g.input('Ztot', 'float32', ['d', 'v']); const zF = g.input('Zf', 'float32', ['d', 'v']);
  const vt = g.input('Vt', 'float32', [r, 'd']); const wt = g.input('Wt', 'float32', [na, r]);
  const b = g.node('MatMul', [vt, g.node('Sub', [zTot, zF])]); const c = g.node('MatMul', [vt, zF]);
  g.output(g.node('MatMul', [wt, g.node('Mul', [c, b])]), 'cross', 'float32', [na, 'v']);
  const parts: string[] = [];
  blocks.forEach(([start, rows], i) => {
    const rb = g.input(`R${i}`, 'float32', [na * rows, r - start]);
    const bSlice = start === 0 ? b : g.node('Slice', [b, g.ints([start]), g.ints([r]), g.ints([0])]);
    const prod = g.node('MatMul', [rb, bSlice]);
    const shaped = g.node('Reshape', [prod, g.ints([na, rows, -1])]);
    const mode = process.env.MODE ?? 'rss';
    if (mode === 'rss') parts.push(g.node('ReduceSumSquare', [shaped], { axes: [1], keepdims: 0 }));
    else if (mode === 'mulsum') parts.push(g.node('ReduceSum', [g.node('Mul', [shaped, shaped]), g.ints([1])], { keepdims: 0 }));
    else parts.push(g.node('Reshape', [g.node('MatMul', [g.constant(new Array(rows).fill(1), 'float32', [1, rows]), g.node('Mul', [shaped, shaped])]), g.ints([na, -1])]));
  });
  g.output(g.node('Sum', parts), 'quad', 'float32', [na, 'v']);
  const s = await ort.InferenceSession.create(g.build().bytes, { interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: '/tmp/prof/ort', extra: { session: { intra_op: { allow_spinning: process.env.SPIN ?? '0' } } } });
  const rnd = (n: number) => new Float32Array(n).map(() => Math.random());
  const feeds: Record<string, ort.Tensor> = { Ztot: new ort.Tensor('float32', rnd(d * vb), [d, vb]), Zf: new ort.Tensor('float32', rnd(d * vb), [d, vb]), Vt: new ort.Tensor('float32', rnd(r * d), [r, d]), Wt: new ort.Tensor('float32', rnd(na * r), [na, r]) };
  blocks.forEach(([start, rows], i) => { feeds[`R${i}`] = new ort.Tensor('float32', rnd(na * rows * (r - start)), [na * rows, r - start]); });
  let best = 1e9;
  for (let i = 0; i < 6; i++) { const t = performance.now(); await s.run(feeds); best = Math.min(best, performance.now() - t); }
  const flops = 2 * 2 * r * d * vb + blocks.reduce((a, [st, rows]) => a + 2 * na * rows * (r - st) * vb, 0);
  console.log(`fold graph br=${br}: best ${best.toFixed(1)} ms, ${(flops / best / 1e6).toFixed(0)} GFLOP/s`);
  s.endProfiling(); const file = '/tmp/prof/' + readdirSync('/tmp/prof').filter((f) => f.startsWith('ort')).sort().pop();
  const ev = JSON.parse(readFileSync(file, 'utf8')) as { name: string; dur: number; cat: string; args?: { op_name?: string } }[];
  const agg = new Map<string, number>();
  for (const e of ev) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) { const k = e.args?.op_name ?? e.name; agg.set(k, (agg.get(k) ?? 0) + e.dur); }
  const runs = ev.filter((e) => e.name === 'model_run').length;
  console.log([...agg].map(([k, v]) => `${k} ${(v / 1000 / runs).toFixed(1)}ms`).join(', '));
}
main();
