import { Engine, matrix } from '../src/compute/onnx';
import { gemm } from '../src/compute/onnx/kernels';
import { symmetricEigenBlocked } from '../src/compute/eigen';
import { pivotedCholeskyBlocked } from '../src/compute/cholesky';
async function main() {
  const engine = await Engine.create({ executionProvider: 'cpu', intraOpNumThreads: 1 });
  const d = 768; const X = new Float64Array(2000 * d).map(() => Math.random() - 0.5);
  const K = (await gemm(engine, matrix(X, 2000, d), matrix(X, 2000, d), { transA: true })).data;
  const t = async (label: string, f: () => Promise<unknown>) => { await f(); let b = 1e9; for (let i = 0; i < 3; i++) { const s = performance.now(); await f(); b = Math.min(b, performance.now() - s); } console.log(label, b.toFixed(0), 'ms'); };
  for (const nb of [32, 64, 96, 128]) await t(`chol nb=${nb}`, () => pivotedCholeskyBlocked(engine, K, d, { blockSize: nb }));
  for (const nb of [32, 48, 64, 96]) await t(`eigen nb=${nb}`, () => symmetricEigenBlocked(engine, K, d, { blockSize: nb }));
}
main();
