// Feature extraction end to end (read JPEG, decode, preprocess, inference, pooling, .npy writing)
// through the loop FEATURE_EXTRACTION runs (src/images/pipeline.ts), against PyTorch on CPU doing
// the same in the same script (PIL decode, torchvision transforms, DataLoader with 2 workers).
// 1,000 JPEGs of NSD's size (425 x 425), a ResNet-50-sized graph at 224 (random weights, exported
// at bench time by models/backbones/test_backbones.py) and a ViT-B/16-sized one.
//   npm run bench -- features [--small] [--images N] [--vit-images N] [--model resnet50|vit_b16] [--batch 32]
//   npm run bench -- features --rss 1000,5000 [--rss-model resnet50|vit_b16|tiny-cnn]
// Prints per-model lines, then one JSON line (the ResNet-50 numbers, ViT's under "vit").
// --rss: peak RSS of the extraction loop alone (read, decode, preprocess, inference, pooling,
// .npy writing; no PyTorch) at each image count, each in a fresh process so the peaks are its
// own; the counts cycle through 1,000 prepared JPEGs (each read and decoded anew, nothing
// cached), so 5,000 images is 5,000 decodes. Bounded memory means the same peak at every count.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { Engine } from '../src/compute/onnx';
import { backboneGraph, dryRunBackbone, readBackboneGraph } from '../src/compute/vision/backbone';
import { extractBatch } from '../src/compute/vision/extract';
import { parseContract } from '../src/compute/vision/preprocess';
import { runExtraction } from '../src/images/pipeline';
import { preprocessImageFile } from '../src/images/preprocess';
import { encodeNpyStream } from '../src/storage';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, 'features_torch.py');

function argValue(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function python(args: string[], clean: boolean): string {
  const env = { ...process.env };
  // The machine forces an old OpenBLAS kernel for other tools; PyTorch gets its own.
  if (clean) {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  const res = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (res.status !== 0) throw new Error(`${SCRIPT} ${args[0]} failed: ${res.stderr || res.error}`);
  return res.stdout.trim().split('\n').pop() ?? '';
}

/** Rows pushed per layer go to a .npy file through a bounded queue. */
function npyFile(path: string, rows: number, width: number) {
  const queue: Float32Array[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  async function* chunks() {
    for (;;) {
      const next = queue.shift();
      if (next) yield next;
      else if (done) return;
      else await new Promise<void>((r) => (wake = r));
    }
  }
  const written = pipeline(encodeNpyStream({ dtype: '<f4', shape: [rows, width] }, chunks()), createWriteStream(path));
  return {
    push(r: Float32Array) {
      queue.push(r);
      wake?.();
    },
    async close() {
      done = true;
      wake?.();
      await written;
    },
  };
}

async function benchModel(engine: Engine, dir: string, model: string, files: string[], batchSize: number) {
  const bytes = new Uint8Array(readFileSync(join(dir, `${model}.onnx`)));
  const g = readBackboneGraph(bytes);
  const contract = parseContract(JSON.parse(g.metadata.get('brainalign.preprocess')!));
  const pooling = JSON.parse(g.metadata.get('brainalign.pooling') ?? '{}');
  const layers = await dryRunBackbone(engine, bytes, model, g, contract, pooling);
  const graph = backboneGraph(bytes, model, g, layers.map((l) => l.name));
  const n = files.length;
  const per = 3 * contract.inputSize[0] * contract.inputSize[1];

  // Decode + preprocess alone, the same concurrency as the extraction loop (one batch at a time).
  let t0 = performance.now();
  const scratch = new Float32Array(batchSize * per);
  for (let s = 0; s < n; s += batchSize) {
    await Promise.all(files.slice(s, s + batchSize).map(async (f, j) => preprocessImageFile(await readFile(f), contract, scratch, j * per)));
  }
  const decodeRate = n / ((performance.now() - t0) / 1000);

  // Inference alone, on already preprocessed batches.
  const inferN = Math.min(n, 4 * batchSize);
  const input = new Float32Array(batchSize * per).map((_, i) => Math.sin(i));
  await extractBatch(engine, graph, g.inputName, input.subarray(0, per), 1, contract.inputSize, layers);
  t0 = performance.now();
  for (let s = 0; s < inferN; s += batchSize) {
    const count = Math.min(batchSize, inferN - s);
    await extractBatch(engine, graph, g.inputName, input.subarray(0, count * per), count, contract.inputSize, layers);
  }
  const inferenceRate = inferN / ((performance.now() - t0) / 1000);

  // End to end: the extraction loop with .npy writing.
  const writers = layers.map((l) => npyFile(join(dir, `${model}.${l.name}.npy`), n, l.width));
  const timings = await runExtraction({
    engine,
    graph,
    inputName: g.inputName,
    contract,
    layers,
    nImages: n,
    batchSize,
    load: (i) => readFile(files[i]),
    rows: async (_s, _c, perLayer) => perLayer.forEach((r, i) => writers[i].push(r)),
  });
  await Promise.all(writers.map((w) => w.close()));
  const rate = n / timings.totalSeconds;

  const torch = JSON.parse(python(['run', dir, model, String(n)], true));
  const line = {
    model,
    images: n,
    images_per_second: rate,
    torch_images_per_second: torch.images_per_second,
    ratio_vs_torch: rate / torch.images_per_second,
    decode_images_per_second: decodeRate,
    inference_images_per_second: inferenceRate,
    torch_threads: torch.torch_threads,
    torch_peak_rss_mb: Math.round(torch.peak_rss_mb),
    layers: layers.map((l) => `${l.name}:${l.pooling}:${l.width}`),
  };
  console.log(`${model}: ${JSON.stringify(line)}`);
  return line;
}

const round = (x: number) => Number(x.toFixed(2));

/** One extraction of `n` images (cycling through `files`) with .npy writing; returns seconds. */
async function extractOnly(engine: Engine, bytes: Uint8Array, key: string, files: string[], n: number, out: string, batchSize: number): Promise<number> {
  const g = readBackboneGraph(bytes);
  const contract = parseContract(JSON.parse(g.metadata.get('brainalign.preprocess')!));
  const layers = await dryRunBackbone(engine, bytes, key, g, contract, JSON.parse(g.metadata.get('brainalign.pooling') ?? '{}'));
  const writers = layers.map((l) => npyFile(join(out, `${key}.${l.name}.${n}.npy`), n, l.width));
  const t = await runExtraction({
    engine,
    graph: backboneGraph(bytes, key, g, layers.map((l) => l.name)),
    inputName: g.inputName,
    contract,
    layers,
    nImages: n,
    batchSize,
    load: (i) => readFile(files[i % files.length]),
    rows: async (_s, _c, perLayer) => perLayer.forEach((r, i) => writers[i].push(r)),
  });
  await Promise.all(writers.map((w) => w.close()));
  return t.totalSeconds;
}

/** The child of --rss: one count, its own process, its peak RSS on stdout. */
async function rssChild(args: string[]): Promise<void> {
  const [dir, model, n, batch] = args.slice(args.indexOf('--rss-child') + 1);
  const files = readdirSync(join(dir, 'images')).sort().map((f) => join(dir, 'images', f));
  const path = model === 'tiny-cnn' ? join(__dirname, '../models/backbones/tiny-cnn.onnx') : join(dir, `${model}.onnx`);
  const engine = await Engine.create({ executionProvider: (process.env.ONNX_EXECUTION_PROVIDER as 'cpu' | 'cuda' | 'auto') ?? 'auto' });
  const seconds = await extractOnly(engine, new Uint8Array(readFileSync(path)), model, files, Number(n), dir, Number(batch));
  await engine.release();
  console.log(JSON.stringify({ images: Number(n), seconds: round(seconds), images_per_second: round(Number(n) / seconds), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

async function rssScaling(args: string[]): Promise<void> {
  const counts = args[args.indexOf('--rss') + 1].split(',').map(Number);
  const model = args.includes('--rss-model') ? args[args.indexOf('--rss-model') + 1] : 'resnet50';
  const batchSize = argValue(args, '--batch', 32);
  const prepared = Math.min(1000, Math.max(...counts));
  const dir = mkdtempSync(join(tmpdir(), 'brainalign-features-'));
  try {
    console.log(`preparing ${prepared} JPEGs (425 x 425) and the bench graphs in ${dir}`);
    python(['prepare', dir, String(prepared)], false);
    const byCount: Record<string, unknown> = {};
    for (const n of counts) {
      const res = spawnSync(process.execPath, [...process.execArgv, process.argv[1], 'features', '--rss-child', dir, model, String(n), String(batchSize)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (res.status !== 0) throw new Error(`extraction of ${n} images failed: ${res.stderr}`);
      const line = JSON.parse(res.stdout.trim().split('\n').pop()!);
      console.log(`${model}, ${n} images: ${JSON.stringify(line)}`);
      byCount[n] = line;
    }
    const peaks = counts.map((n) => (byCount[n] as { peak_rss_mb: number }).peak_rss_mb);
    console.log(
      JSON.stringify({
        bench: 'features',
        mode: 'rss',
        model,
        batch: batchSize,
        images: counts,
        peak_rss_mb: peaks,
        peak_rss_growth_mb: peaks[peaks.length - 1] - peaks[0],
        images_per_second: counts.map((n) => (byCount[n] as { images_per_second: number }).images_per_second),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--rss-child')) return rssChild(args);
  if (args.includes('--rss')) return rssScaling(args);
  const small = args.includes('--small');
  const images = argValue(args, '--images', small ? 64 : 1000);
  const vitImages = argValue(args, '--vit-images', small ? 32 : Math.min(images, 200));
  const batchSize = argValue(args, '--batch', 32);
  const only = args.includes('--model') ? args[args.indexOf('--model') + 1] : null;
  const dir = mkdtempSync(join(tmpdir(), 'brainalign-features-'));
  try {
    console.log(`preparing ${images} JPEGs (425 x 425) and the bench graphs in ${dir}`);
    python(['prepare', dir, String(images)], false);
    const files = readdirSync(join(dir, 'images')).sort().map((f) => join(dir, 'images', f));
    const engine = await Engine.create({ executionProvider: (process.env.ONNX_EXECUTION_PROVIDER as 'cpu' | 'cuda' | 'auto') ?? 'auto' });
    console.log(`engine: ${JSON.stringify(engine.provenance)}; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, libvips threads ${sharp.concurrency()}`);
    const resnet = !only || only === 'resnet50' ? await benchModel(engine, dir, 'resnet50', files, batchSize) : null;
    const vit = !only || only === 'vit_b16' ? await benchModel(engine, dir, 'vit_b16', files.slice(0, vitImages), batchSize) : null;
    const main = resnet ?? vit!;
    await engine.release();
    console.log(
      JSON.stringify({
        bench: 'features',
        model: main.model,
        images: main.images,
        images_per_second: round(main.images_per_second),
        torch_images_per_second: round(main.torch_images_per_second),
        ratio_vs_torch: round(main.ratio_vs_torch),
        decode_images_per_second: round(main.decode_images_per_second),
        inference_images_per_second: round(main.inference_images_per_second),
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
        torch_threads: main.torch_threads,
        provider: engine.provider,
        ...(resnet && vit
          ? { vit: { images: vit.images, images_per_second: round(vit.images_per_second), torch_images_per_second: round(vit.torch_images_per_second), ratio_vs_torch: round(vit.ratio_vs_torch), decode_images_per_second: round(vit.decode_images_per_second), inference_images_per_second: round(vit.inference_images_per_second) } }
          : {}),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
