// In-context encoder inference (BraInCoRL architecture: ic_img [B, S, E], ic_nrn [B, S] -> weights
// [B, E+1]) through ONNX Runtime from Node, against PyTorch on CPU running the same architecture,
// same shapes, same thread count, in the same run (models/braincorl/bench_torch.py exports the
// graphs timed here). Two models: the shipped reference model (models/braincorl/reference.onnx's
// weights) over 20,000 voxels x 100 context images, and the full CLIP-sized architecture (random
// weights; ~20 GFLOP per voxel, so fewer voxels: `clip_voxels` in the output).
// `--small` for a quick check; `--threads N` (default: all cores); `--repeat N` runs both sides N
// times and reports the best of each. Prints one JSON line last.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type Graph, type HostTensor } from '../src/compute/onnx';
import { Rng } from '../src/compute/random';
import { decodeNpy, toFloat32 } from '../src/storage';
import { referenceSettings, repeatCount, runPython } from './support/reference';

const MODEL_DIR = join(__dirname, '..', 'models', 'braincorl');

function argValue(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function fileGraph(path: string): Graph {
  const bytes = new Uint8Array(readFileSync(path));
  return { name: path, singleThread: false, bytes, key: createHash('sha256').update(bytes).digest('hex'), inputNames: ['ic_img', 'ic_nrn'], outputNames: ['weights'] };
}

function npy(path: string): HostTensor<Float32Array> {
  const a = decodeNpy(new Uint8Array(readFileSync(path)), { copy: true });
  return { data: toFloat32(a), dims: a.shape };
}

/** Unit-norm context rows and per-voxel z-scored responses, as the contract's caller sends them. */
function contractInputs(batch: number, context: number, E: number, seed: number): { ic_img: HostTensor; ic_nrn: HostTensor } {
  const rng = new Rng(seed);
  const img = new Float32Array(batch * context * E);
  for (let r = 0; r < batch * context; r++) {
    let ss = 0;
    for (let j = 0; j < E; j++) ss += (img[r * E + j] = rng.normal()) ** 2;
    for (let j = 0; j < E; j++) img[r * E + j] /= Math.sqrt(ss);
  }
  const nrn = new Float32Array(batch * context);
  for (let v = 0; v < batch; v++) {
    const y = Array.from({ length: context }, () => rng.normal());
    const mean = y.reduce((s, x) => s + x, 0) / context;
    const sd = Math.sqrt(y.reduce((s, x) => s + (x - mean) ** 2, 0) / context);
    y.forEach((x, s) => (nrn[v * context + s] = (x - mean) / sd));
  }
  return { ic_img: { data: img, dims: [batch, context, E] }, ic_nrn: { data: nrn, dims: [batch, context] } };
}

async function timeOnnx(engine: Engine, graph: Graph, voxels: number, context: number, batch: number): Promise<number> {
  const feeds = contractInputs(batch, context, 512, 2);
  await engine.run(graph, contractInputs(2, context, 512, 3)); // session creation and warm-up
  const t0 = performance.now();
  for (let done = 0; done < voxels; done += batch) {
    const b = Math.min(batch, voxels - done);
    const slice = b === batch ? feeds : { ic_img: { data: (feeds.ic_img.data as Float32Array).subarray(0, b * context * 512), dims: [b, context, 512] }, ic_nrn: { data: (feeds.ic_nrn.data as Float32Array).subarray(0, b * context), dims: [b, context] } };
    await engine.run(graph, slice);
  }
  return (performance.now() - t0) / 1000;
}

/** max |ONNX Runtime - PyTorch| on the sample bench_torch.py saved. */
async function agreement(engine: Engine, graph: Graph, dir: string, name: string): Promise<number> {
  const out = await engine.run(graph, { ic_img: npy(join(dir, `${name}-img.npy`)), ic_nrn: npy(join(dir, `${name}-nrn.npy`)) });
  const expected = npy(join(dir, `${name}-weights.npy`)).data;
  const got = out.weights.data as Float32Array;
  return expected.reduce((m, x, i) => Math.max(m, Math.abs(x - got[i])), 0);
}

export async function main(args: string[]): Promise<void> {
  const small = args.includes('--small');
  const threads = argValue(args, '--threads', availableParallelism());
  const context = argValue(args, '--context', 100);
  const voxels = argValue(args, '--voxels', small ? 1000 : 20000);
  const clipVoxels = argValue(args, '--clip-voxels', small ? 20 : 100);
  const batch = argValue(args, '--batch', 500);
  const clipBatch = argValue(args, '--clip-batch', small ? 10 : 50);
  const dir = mkdtempSync(join(tmpdir(), 'brainalign-bench-icl-'));
  try {
    const repeat = repeatCount(args);
    const settings = referenceSettings();
    console.log(`PyTorch (${JSON.stringify(settings)}, ${threads} threads, OPENBLAS_* unset): exporting graphs, timing ${voxels} + ${clipVoxels} voxels x ${context} context images, ${repeat}x`);
    const torchArgs = [join(MODEL_DIR, 'bench_torch.py'), '--dir', dir, '--voxels', String(voxels), '--clip-voxels', String(clipVoxels), '--context', String(context), '--batch', String(batch), '--clip-batch', String(clipBatch), '--threads', String(threads)];
    type TorchTimes = { torch: string; threads: number; reference: { seconds: number; voxels_per_second: number }; clip: { seconds: number; voxels_per_second: number } };
    const torchRuns: TorchTimes[] = [];
    for (let k = 0; k < repeat; k++) {
      const t = runPython<TorchTimes>(torchArgs);
      console.log(`  torch ${t.torch}: reference ${t.reference.seconds.toFixed(2)} s, clip ${t.clip.seconds.toFixed(2)} s`);
      torchRuns.push(t);
    }
    const torch = {
      torch: torchRuns[0].torch,
      threads: torchRuns[0].threads,
      reference: { voxels_per_second: Math.max(...torchRuns.map((t) => t.reference.voxels_per_second)) },
      clip: { voxels_per_second: Math.max(...torchRuns.map((t) => t.clip.voxels_per_second)) },
    };

    const engine = await Engine.create({ executionProvider: 'cpu', intraOpNumThreads: threads });
    console.log(`engine: ${JSON.stringify(engine.provenance)}`);
    const reference = fileGraph(join(MODEL_DIR, 'reference.onnx'));
    const clip = fileGraph(join(dir, 'clip.onnx'));
    const referenceDiff = await agreement(engine, reference, dir, 'reference');
    const clipDiff = await agreement(engine, clip, dir, 'clip');
    let refSeconds = Infinity;
    let clipSeconds = Infinity;
    for (let k = 0; k < repeat; k++) {
      const r = await timeOnnx(engine, reference, voxels, context, batch);
      console.log(`  onnxruntime reference: ${r.toFixed(2)} s (max |diff| vs torch ${referenceDiff.toExponential(2)})`);
      const c = await timeOnnx(engine, clip, clipVoxels, context, clipBatch);
      console.log(`  onnxruntime clip: ${c.toFixed(2)} s (max |diff| vs torch ${clipDiff.toExponential(2)})`);
      refSeconds = Math.min(refSeconds, r);
      clipSeconds = Math.min(clipSeconds, c);
    }
    await engine.release();

    const vps = voxels / refSeconds;
    const clipVps = clipVoxels / clipSeconds;
    const round = (x: number, digits = 3) => Number(x.toPrecision(digits + 1));
    console.log(
      JSON.stringify({
        bench: 'icl',
        model: 'reference',
        voxels,
        context,
        threads,
        voxels_per_second: round(vps),
        torch_voxels_per_second: round(torch.reference.voxels_per_second),
        ratio_vs_torch: round(vps / torch.reference.voxels_per_second),
        max_abs_diff_vs_torch: round(referenceDiff, 2),
        clip_voxels: clipVoxels,
        clip_voxels_per_second: round(clipVps),
        clip_torch_voxels_per_second: round(torch.clip.voxels_per_second),
        clip_ratio_vs_torch: round(clipVps / torch.clip.voxels_per_second),
        clip_max_abs_diff_vs_torch: round(clipDiff, 2),
        torch_version: torch.torch,
        torch_threads: torch.threads,
        onnx_threads: threads,
        runs: repeat,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
