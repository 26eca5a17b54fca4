// RSA at NSD's shared-image scale: 1,000 scored stimuli x 20,000 voxels (5 ROIs + all voxels) x 12
// layers of width 768, the best layer per ROI chosen on 250 other stimuli, Spearman, tau-a and
// linear/debiased CKA, 1,000 bootstrap resamples at the chosen layers; src/compute/rsa/analysis.ts
// against the same analysis in numpy/scipy (bench/rsa_numpy.py). Then 10,000 stimuli x one layer in
// a child process of its own, to show its peak memory: the 50-million-pair RDMs built in blocks,
// one float32 triangle (plus its sorted copy) each, never a square matrix.
// `--small` runs a reduced size, `--bootstrap N` changes the resamples, `--no-large` skips the
// 10,000-stimulus run, `--large-only` is that run alone (what the child executes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, matrix, type Matrix } from '../src/compute/onnx';
import { Rng } from '../src/compute/random';
import { representationalSimilarity, type RsaMeasure } from '../src/compute/rsa';
import { writeNpy } from './npy';
import { onnxSettings, referenceSettings, runPython } from './support/reference';

const MEASURES: RsaMeasure[] = ['spearman', 'kendall_tau_a', 'cka_linear', 'cka_debiased'];

interface Problem {
  n: number;
  nSel: number;
  voxels: number;
  width: number;
  /** (nSel + n, voxels): selection stimuli first. */
  brain: Float32Array;
  /** Each (nSel + n, width). */
  layers: Float32Array[];
  rois: Record<string, number[]>;
}

/**
 * Latent stimulus factors; each ROI reads its own mix of them, each layer carries them with a
 * depth-dependent emphasis, plus noise: ROIs prefer different layers, as in visual cortex.
 */
function makeProblem(n: number, nSel: number, voxels: number, nLayers: number, width: number, nRois: number, seed: number): Problem {
  const rng = new Rng(seed);
  const total = n + nSel;
  const q = 32;
  const z = rng.fillNormal(new Float32Array(total * q));
  const brain = new Float32Array(total * voxels);
  const per = Math.floor(voxels / (nRois + 1));
  const rois: Record<string, number[]> = {};
  for (let r = 0; r < nRois; r++) rois[`R${r + 1}`] = Array.from({ length: per }, (_, j) => r * per + j);
  const w = new Float32Array(q);
  for (let v = 0; v < voxels; v++) {
    const roi = Math.min(nRois, Math.floor(v / per));
    for (let k = 0; k < q; k++) w[k] = rng.normal() * Math.exp(-((k / q - roi / nRois) ** 2) * 8);
    for (let i = 0; i < total; i++) {
      let s = 0;
      for (let k = 0; k < q; k++) s += z[i * q + k] * w[k];
      brain[i * voxels + v] = s + 1.5 * rng.normal();
    }
  }
  const layers: Float32Array[] = [];
  const m = new Float32Array(q * width);
  for (let l = 0; l < nLayers; l++) {
    for (let k = 0; k < q; k++) {
      const emphasis = Math.exp(-((k / q - l / Math.max(1, nLayers - 1)) ** 2) * 8);
      for (let j = 0; j < width; j++) m[k * width + j] = rng.normal() * emphasis;
    }
    const x = new Float32Array(total * width);
    for (let i = 0; i < total; i++)
      for (let j = 0; j < width; j++) {
        let s = 0;
        for (let k = 0; k < q; k++) s += z[i * q + k] * m[k * width + j];
        x[i * width + j] = s + rng.normal();
      }
    layers.push(x);
  }
  return { n, nSel, voxels, width, brain, layers, rois };
}

const rows = (data: Float32Array, cols: number, start: number, count: number): Matrix<Float32Array> => matrix(data.subarray(start * cols, (start + count) * cols), count, cols);

async function timeTs(engine: Engine, p: Problem, nBoot: number) {
  const t0 = performance.now();
  const result = await representationalSimilarity(engine, {
    scopes: [{ name: 'all', voxels: null }, ...Object.entries(p.rois).map(([name, voxels]) => ({ name: `roi:${name}`, voxels }))],
    brain: { mean: rows(p.brain, p.voxels, p.nSel, p.n), repeats: null },
    brainSelection: p.nSel ? { mean: rows(p.brain, p.voxels, 0, p.nSel), repeats: null } : null,
    layers: p.layers.map((x, l) => ({ name: `layer${l}`, scored: rows(x, p.width, p.nSel, p.n), selection: p.nSel ? rows(x, p.width, 0, p.nSel) : null })),
    otherSubjects: [],
    measures: MEASURES,
    distance: 'correlation',
    modelDistance: 'correlation',
    bootstrapSamples: nBoot,
    seed: 1,
  });
  return { seconds: (performance.now() - t0) / 1000, result };
}

function argValue(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

async function largeOnly(args: string[]): Promise<void> {
  const small = args.includes('--small');
  const [n, voxels, width] = small ? [2000, 2000, 128] : [10_000, argValue(args, '--large-voxels', 20_000), 768];
  const nBoot = argValue(args, '--large-bootstrap', small ? 5 : 20);
  const engine = await Engine.create({ executionProvider: 'cpu' });
  const p = makeProblem(n, 0, voxels, 1, width, 1, 11);
  const dataMb = (p.brain.byteLength + p.layers[0].byteLength) / 2 ** 20;
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  const { seconds, result } = await timeTs(engine, { ...p, rois: {} }, nBoot);
  const pairs = (n * (n - 1)) / 2;
  console.log(
    JSON.stringify({
      stimuli: n,
      voxels,
      layers: 1,
      pairs,
      bootstrap: nBoot,
      seconds: Number(seconds.toFixed(2)),
      phases: result.seconds,
      data_mb: Math.round(dataMb),
      rss_before_mb: Math.round(rssBefore),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      one_triangle_mb: Math.round((pairs * 4) / 2 ** 20),
      spearman: result.best.find((b) => b.measure === 'spearman')?.value,
    }),
  );
  await engine.release();
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--large-only')) return largeOnly(args);
  const small = args.includes('--small');
  const [n, nSel, voxels, nLayers, width, nRois] = small ? [200, 60, 2000, 3, 128, 5] : [1000, 250, 20_000, 12, 768, 5];
  const nBoot = argValue(args, '--bootstrap', small ? 100 : 1000);
  const reference = referenceSettings();
  console.log(`numpy reference: ${JSON.stringify(reference)} (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for it)`);
  const engine = await Engine.create({ executionProvider: (process.env.ONNX_EXECUTION_PROVIDER as 'cpu' | 'cuda' | 'auto') ?? 'auto' });
  console.log(`engine: ${JSON.stringify(engine.provenance)}`);
  console.log(`problem: ${n} scored + ${nSel} selection stimuli, ${voxels} voxels (${nRois} ROIs + all), ${nLayers} layers x ${width}, ${nBoot} bootstrap resamples`);
  const p = makeProblem(n, nSel, voxels, nLayers, width, nRois, 7);

  const ts = await timeTs(engine, p, nBoot);
  console.log(`typescript/onnxruntime: ${ts.seconds.toFixed(2)} s; phases (s) ${JSON.stringify(Object.fromEntries(Object.entries(ts.result.seconds).map(([k, v]) => [k, Number(v.toFixed(2))])))}`);
  const tsPeak = process.resourceUsage().maxRSS / 1024;

  const dir = mkdtempSync(join(tmpdir(), 'brainalign-rsa-'));
  let np: { seconds: number; point_seconds: number; best: Record<string, number>; values: Record<string, number>; ci: Record<string, [number, number]>; peak_rss_mb: number };
  try {
    writeNpy(join(dir, 'brain.npy'), p.brain, [n + nSel, voxels]);
    const stacked = new Float32Array(nLayers * (n + nSel) * width);
    p.layers.forEach((x, l) => stacked.set(x, l * x.length));
    writeNpy(join(dir, 'layers.npy'), stacked, [nLayers, n + nSel, width]);
    writeFileSync(join(dir, 'rois.json'), JSON.stringify(p.rois));
    writeFileSync(join(dir, 'n_sel.txt'), String(nSel));
    np = runPython([join(__dirname, 'rsa_numpy.py'), dir, String(nBoot), '1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`numpy/scipy: ${np.seconds.toFixed(2)} s (${np.point_seconds.toFixed(2)} s before the bootstrap)`);

  // Agreement: the same chosen layers and values, intervals of similar width (different resamples).
  const scopes = ['all', ...Object.keys(p.rois).map((r) => `roi:${r}`)];
  let maxValueDiff = 0;
  let sameChoice = 0;
  for (const b of ts.result.best) {
    const key = `${scopes[b.scopeIndex]}:${b.measure}`;
    if (np.best[key] === b.layerIndex) sameChoice++;
    maxValueDiff = Math.max(maxValueDiff, Math.abs(np.values[key] - b.value));
  }
  console.log(`agreement: ${sameChoice}/${ts.result.best.length} chosen layers equal, max |value difference| ${maxValueDiff.toExponential(2)}`);

  let large: Record<string, unknown> | null = null;
  if (!args.includes('--no-large')) {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], 'rsa', '--large-only', ...(small ? ['--small'] : []), ...args.filter((a, i) => a.startsWith('--large-') || args[i - 1]?.startsWith('--large-'))], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`the 10,000-stimulus run failed (${child.status})`);
    large = JSON.parse(child.stdout.trim().split('\n').pop()!);
    console.log(`one layer at ${large!.stimuli} stimuli: ${JSON.stringify(large)}`);
  }
  await engine.release();
  console.log(
    JSON.stringify({
      bench: 'rsa',
      stimuli: n,
      selection_stimuli: nSel,
      voxels,
      rois: nRois,
      layers: nLayers,
      width,
      bootstrap: nBoot,
      measures: MEASURES,
      seconds: Number(ts.seconds.toFixed(3)),
      numpy_seconds: Number(np.seconds.toFixed(3)),
      ratio_vs_numpy: Number((ts.seconds / np.seconds).toFixed(3)),
      peak_rss_mb: Math.round(tsPeak),
      numpy_peak_rss_mb: Math.round(np.peak_rss_mb),
      same_chosen_layers: `${sameChoice}/${ts.result.best.length}`,
      max_value_diff: Number(maxValueDiff.toExponential(2)),
      large,
      provider: engine.provider,
      ...onnxSettings(),
      numpy_kernel: reference.numpy_kernel,
      numpy_threads: reference.numpy_threads,
      numpy_version: reference.numpy_version,
    }),
  );
}
