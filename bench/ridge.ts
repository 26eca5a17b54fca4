// Ridge CV at NSD scale (9,000 train / 1,000 test stimuli, d = 768, 20,000 voxels, 10 alphas,
// 5 folds) through src/compute/ridge.ts, then the same algorithm in numpy on the same data.
// `--small` runs a reduced size for a quick check, `--repeat N` alternates the two N times and
// reports the fastest of each (the machine is shared), `--no-scaling` skips the size sweep.
// Prints scaling in n, d and voxels at smaller sizes, then one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pearsonR } from '../src/compute/metrics';
import { Engine, affine, matrix, type Matrix } from '../src/compute/onnx';
import { Rng } from '../src/compute/random';
import { gemm } from '../src/compute/onnx/kernels';
import { autoVoxelBatch, ridgeCv, type RidgeTimings } from '../src/compute/ridge';
import { writeNpy } from './npy';
import { onnxSettings, referenceSettings, repeatCount, runPython } from './support/reference';

const ALPHAS = Array.from({ length: 10 }, (_, i) => 10 ** (-3 + (8 * i) / 9)); // logspace(-3, 5, 10)
const FOLDS = 5;
// The voxel batch runs choose (autoVoxelBatch: shapes and cores) unless BENCH_VOXEL_BATCH says.
const voxelBatchFor = (n: number, d: number) => Number(process.env.BENCH_VOXEL_BATCH ?? autoVoxelBatch(n, d, ALPHAS.length));
// Rows per triangular block of the quadratic term, each side at its faster setting (measured at
// NSD scale: ridgeCv's default 64 beat 128 by ~10% per fold call; numpy ran 4.8 s with 128 and
// 5.2 s with 64, its einsum over smaller blocks costing more).
const BLOCK_ROWS = Number(process.env.BENCH_BLOCK_ROWS ?? 64);
const NUMPY_BLOCK_ROWS = Number(process.env.BENCH_NUMPY_BLOCK_ROWS ?? 128);
// BENCH_DECOMPOSITIONS_IN_WORKER=0|1 overrides ridgeCv's choice (for comparing the two layouts).
const IN_WORKER = process.env.BENCH_DECOMPOSITIONS_IN_WORKER === undefined ? undefined : process.env.BENCH_DECOMPOSITIONS_IN_WORKER === '1';

interface Problem {
  X: Matrix<Float32Array>;
  Y: Matrix<Float32Array>;
  Xtest: Matrix<Float32Array>;
  Ytest: Matrix<Float32Array>;
}

/** Features with a decaying spectrum; responses from low-rank weights plus voxel-specific noise. */
async function makeProblem(engine: Engine, n: number, nTest: number, d: number, v: number, seed: number): Promise<Problem> {
  const rng = new Rng(seed);
  const total = n + nTest;
  const X = new Float32Array(total * d);
  for (let i = 0; i < total; i++) for (let j = 0; j < d; j++) X[i * d + j] = rng.normal() / Math.sqrt(1 + j / 16);
  const rank = 20;
  const A = rng.fillNormal(new Float32Array(d * rank), 1 / Math.sqrt(d));
  const B = rng.fillNormal(new Float32Array(rank * v), 1);
  const low = await affine(engine, matrix(A, d, rank), matrix(B, rank, v), null);
  const Y = (await affine(engine, matrix(X, total, d), low, null)).data;
  const noiseScale = Float32Array.from({ length: v }, (_, j) => 0.5 + (3 * j) / v);
  for (let i = 0; i < total; i++) for (let j = 0; j < v; j++) Y[i * v + j] += noiseScale[j] * rng.normal();
  return {
    X: matrix(X.subarray(0, n * d), n, d),
    Y: matrix(Y.subarray(0, n * v), n, v),
    Xtest: matrix(X.subarray(n * d), nTest, d),
    Ytest: matrix(Y.subarray(n * v), nTest, v),
  };
}

async function timeTs(engine: Engine, p: Problem): Promise<{ seconds: number; meanR: number; alphaCounts: number[]; phases: string; timings: RidgeTimings; inWorker: boolean }> {
  const t0 = performance.now();
  const fit = await ridgeCv(engine, p.X, p.Y, { alphas: ALPHAS, folds: FOLDS, voxelBatch: voxelBatchFor(p.X.rows, p.X.cols), quadraticBlockRows: BLOCK_ROWS, decompositionsInWorker: IN_WORKER });
  const pred = await affine(engine, p.Xtest, matrix(fit.weights, p.X.cols, p.Y.cols), null);
  const r = pearsonR(p.Ytest, pred);
  const seconds = (performance.now() - t0) / 1000;
  const alphaCounts = ALPHAS.map((_, a) => fit.bestAlphaIndex.filter((i) => i === a).length);
  const phases = Object.entries(fit.timings).map(([k, t]) => `${k} ${t.toFixed(2)}`).join(', ');
  return { seconds, meanR: r.reduce((s, x) => s + x, 0) / r.length, alphaCounts, phases, timings: fit.timings, inWorker: fit.decompositionsInWorker };
}

function timeNumpy(p: Problem, variant: 'same' | 'himalaya' = 'same'): { seconds: number; mean_r: number; alpha_counts: number[]; peak_rss_mb: number } {
  const dir = mkdtempSync(join(tmpdir(), 'brainalign-bench-'));
  try {
    writeNpy(join(dir, 'X.npy'), p.X.data, [p.X.rows, p.X.cols]);
    writeNpy(join(dir, 'Y.npy'), p.Y.data, [p.Y.rows, p.Y.cols]);
    writeNpy(join(dir, 'Xtest.npy'), p.Xtest.data, [p.Xtest.rows, p.Xtest.cols]);
    writeNpy(join(dir, 'Ytest.npy'), p.Ytest.data, [p.Ytest.rows, p.Ytest.cols]);
    const script = join(__dirname, 'ridge_numpy.py');
    return runPython([script, dir, ALPHAS.join(','), String(FOLDS), String(voxelBatchFor(p.X.rows, p.X.cols)), String(NUMPY_BLOCK_ROWS), variant]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Best-of-5 float32 MatMul rate through the engine at the fold-score shape (768 x 768 by 768 x 4096). */
async function gemmPeak(engine: Engine): Promise<number> {
  const rng = new Rng(3);
  const a = matrix(rng.fillNormal(new Float32Array(768 * 768), 1), 768, 768);
  const b = matrix(rng.fillNormal(new Float32Array(768 * 4096), 1), 768, 4096);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    await gemm(engine, a, b);
    if (i > 0) best = Math.min(best, (performance.now() - t) / 1000);
  }
  return (2 * 768 * 768 * 4096) / best / 1e9;
}

/**
 * Floating-point operations per phase of ridgeCv at full rank (r = d): float32 products for cross
 * products, fold scores (V^T Z twice, the stacked triangular blocks) and refit; float64 for the
 * Grams and the decompositions together (Grams 2 n d^2; tridiagonalisation 4/3 d^3 and
 * back-transformation 2 d^3 per eigendecomposition, V^T K V 4 d^3 and Cholesky d^3 / 3 per fold).
 */
function phaseFlops(n: number, d: number, v: number): Record<string, number> {
  let blocks = 0;
  for (let s = 0; s < d; s += BLOCK_ROWS) blocks += 2 * ALPHAS.length * Math.min(BLOCK_ROWS, d - s) * (d - s);
  return {
    // over timings.decompositionsComputed: the Grams are computed with the decompositions
    float64: 2 * n * d * d + (FOLDS + 1) * (10 / 3) * d ** 3 + FOLDS * (4 + 1 / 3) * d ** 3,
    crossProducts: 2 * n * d * v,
    foldScores: FOLDS * (4 * d * d + blocks) * v,
    refit: 4 * d * d * v,
  };
}

function argValue(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export async function main(args: string[]): Promise<void> {
  const small = args.includes('--small');
  const skipScaling = args.includes('--no-scaling');
  const repeat = repeatCount(args);
  const reference = referenceSettings();
  console.log(`numpy reference: ${JSON.stringify(reference)} (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for it)`);
  const engine = await Engine.create({ executionProvider: (process.env.ONNX_EXECUTION_PROVIDER as 'cpu' | 'cuda' | 'auto') ?? 'auto' });
  console.log(`engine: ${JSON.stringify(engine.provenance)}`);
  const [n, nTest, d, v] = small ? [1800, 200, 256, 2000] : [9000, 1000, 768, 20000];

  if (!skipScaling) {
    console.log('scaling: seconds for fit + predict + r, TypeScript/ONNX Runtime vs numpy (same algorithm)');
    const base = small ? { n: 600, d: 64, v: 500 } : { n: 2000, d: 256, v: 4000 };
    for (const [label, sizes] of [
      ['n', [base.n, base.n * 2, base.n * 4]],
      ['d', [base.d, base.d * 2, base.d * 3]],
      ['voxels', [base.v, base.v * 2, base.v * 4]],
    ] as const) {
      const cells: string[] = [];
      for (const size of sizes) {
        const dims = { ...base, [label === 'voxels' ? 'v' : label]: size };
        const p = await makeProblem(engine, dims.n, 200, dims.d, dims.v, 1);
        const t = await timeTs(engine, p);
        const np = timeNumpy(p);
        cells.push(`${label}=${size}: ${t.seconds.toFixed(2)}s vs ${np.seconds.toFixed(2)}s`);
      }
      console.log(`  vary ${label} (others ${JSON.stringify(base)}): ${cells.join(', ')}`);
    }
    const p = await makeProblem(engine, base.n, 200, base.d, base.v, 1);
    const literal = timeNumpy(p, 'himalaya');
    const t = await timeTs(engine, p);
    console.log(`  himalaya's own formulation in numpy at ${JSON.stringify(base)}: ${literal.seconds.toFixed(2)}s (TypeScript ${t.seconds.toFixed(2)}s; mean r ${literal.mean_r.toFixed(4)} vs ${t.meanR.toFixed(4)})`);
  }

  console.log(`problem: n=${n} train, ${nTest} test, d=${d}, voxels=${v}, ${ALPHAS.length} alphas, ${FOLDS} folds`);
  const p = await makeProblem(engine, n, nTest, d, v, 7);
  console.log(`  data: ${((p.X.data.byteLength + p.Y.data.byteLength + p.Xtest.data.byteLength + p.Ytest.data.byteLength) / 2 ** 20).toFixed(0)} MB, rss after generation ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  const peak = await gemmPeak(engine);
  console.log(`onnx float32 MatMul peak (768x768 @ 768x4096, best of 5): ${peak.toFixed(0)} GFLOP/s`);
  const flops = phaseFlops(n, d, v);
  let bestTs: Awaited<ReturnType<typeof timeTs>> | null = null;
  const tsRuns: number[] = [];
  const npRuns: number[] = [];
  let npPeak = 0;
  for (let k = 0; k < repeat; k++) {
    const ts = await timeTs(engine, p);
    tsRuns.push(ts.seconds);
    if (!bestTs || ts.seconds < bestTs.seconds) bestTs = ts;
    console.log(`typescript/onnxruntime: ${ts.seconds.toFixed(2)} s, mean test r ${ts.meanR.toFixed(4)}, alpha counts ${ts.alphaCounts.join(',')}`);
    console.log(`  phases (s): ${ts.phases}`);
    if (args.includes('--no-numpy')) continue;
    const np = timeNumpy(p);
    npRuns.push(np.seconds);
    npPeak = Math.max(npPeak, np.peak_rss_mb);
    console.log(`numpy (same algorithm): ${np.seconds.toFixed(2)} s, mean test r ${np.mean_r.toFixed(4)}, alpha counts ${np.alpha_counts.join(',')}`);
  }
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  await engine.release();
  if (!npRuns.length) return;
  const seconds = Math.min(...tsRuns);
  const numpySeconds = Math.min(...npRuns);
  console.log(
    JSON.stringify({
      bench: 'ridge',
      seconds: Number(seconds.toFixed(3)),
      numpy_seconds: Number(numpySeconds.toFixed(3)),
      ratio_vs_numpy: Number((seconds / numpySeconds).toFixed(3)),
      voxel_batch: voxelBatchFor(n, d),
      block_rows: BLOCK_ROWS,
      numpy_block_rows: NUMPY_BLOCK_ROWS,
      decompositions_in_worker: bestTs?.inWorker,
      onnx_gemm_peak_gflops: Math.round(peak),
      // The fastest run's phases: `decompositions` is what the fit waited for them, on the worker
      // thread they took `decompositionsComputed` (their rate is taken over the latter).
      phase_seconds: bestTs ? Object.fromEntries(Object.entries(bestTs.timings).map(([k, t]) => [k, Number(t.toFixed(2))])) : undefined,
      phase_gflops: bestTs ? Object.fromEntries(Object.entries(flops).map(([k, f]) => [k, Number((f / Math.max(bestTs!.timings[(k === 'float64' ? 'decompositionsComputed' : k) as keyof RidgeTimings], 1e-9) / 1e9).toFixed(1))])) : undefined,
      peak_rss_mb: Math.round(peakRssMb),
      numpy_peak_rss_mb: Math.round(npPeak),
      runs: repeat,
      provider: engine.provider,
      ...onnxSettings(),
      numpy_kernel: reference.numpy_kernel,
      numpy_threads: reference.numpy_threads,
      numpy_version: reference.numpy_version,
    }),
  );
}
