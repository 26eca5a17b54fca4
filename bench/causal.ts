// One causal test at the paper's per-concept scale (~1,000 images: 300 positives, their 300
// counterfactual edits, two distractor groups of 100, 200 baseline images; d = 768; 20,000 voxels
// in 10 ROIs) through src/compute/causal: batched prediction in ONNX Runtime, per-voxel and per-ROI
// tests on both halves, classification, summary with CIs and follow-ups. `--small` runs 200 images
// x 2,000 voxels; `--concepts N` times N concepts (default 3) and reports the median.
// Prints one JSON line last.
import { runCausalTest } from '../src/compute/causal/causal-test';
import type { CausalDesign } from '../src/compute/causal/design';
import { summarise } from '../src/compute/causal/summary';
import { Engine, matrix } from '../src/compute/onnx';
import { Rng } from '../src/compute/random';

function range(start: number, n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => start + i);
}

/** Features with a concept direction and two cue directions; weights where some voxels read each. */
function makeConcept(seed: number, nPos: number, nGroup: number, nBase: number, d: number, v: number) {
  const rng = new Rng(seed);
  const n = 2 * nPos + 2 * nGroup + nBase;
  const X = new Float32Array(n * d);
  const dirs = [0, 1, 2].map(() => rng.fillNormal(new Float32Array(d), 1 / Math.sqrt(d)));
  const add = (row: number, dir: Float32Array, s: number) => {
    for (let j = 0; j < d; j++) X[row * d + j] += s * dir[j];
  };
  for (let i = 0; i < n * d; i++) X[i] = rng.normal() / Math.sqrt(d);
  for (let i = 0; i < nPos; i++) {
    // The counterfactual is the same image (small re-encoding noise) without the concept.
    for (let j = 0; j < d; j++) X[(nPos + i) * d + j] = X[i * d + j] + (0.1 * rng.normal()) / Math.sqrt(d);
    add(i, dirs[0], 2);
    add(i, dirs[1], 2);
    add(i, dirs[2], 2);
    add(nPos + i, dirs[1], 2);
    add(nPos + i, dirs[2], 2);
  }
  for (let g = 0; g < 2; g++) for (let i = 0; i < nGroup; i++) add(2 * nPos + g * nGroup + i, dirs[1 + g], 2);
  const W = rng.fillNormal(new Float32Array((d + 1) * v), 0.05);
  for (let j = 0; j < v; j++) {
    const kind = j % 10; // 10% concept-reading voxels, 20% cue-reading, the rest generic.
    const dir = kind === 0 ? dirs[0] : kind === 1 ? dirs[1] : kind === 2 ? dirs[2] : null;
    if (dir) for (let k = 0; k < d; k++) W[k * v + j] += 2 * dir[k];
  }
  const design: CausalDesign = {
    positives: range(0, nPos),
    counterfactuals: range(nPos, nPos),
    distractors: [
      { cue: 'cue-a', rows: range(2 * nPos, nGroup) },
      { cue: 'cue-b', rows: range(2 * nPos + nGroup, nGroup) },
    ],
    baseline: range(2 * nPos + 2 * nGroup, nBase),
  };
  return { X: matrix(X, n, d), W: matrix(W, d + 1, v), design, n };
}

export async function main(args: string[]): Promise<void> {
  const small = args.includes('--small');
  const at = args.indexOf('--concepts');
  const nConcepts = at >= 0 ? Number(args[at + 1]) : 3;
  const [nPos, nGroup, nBase, d, v] = small ? [60, 20, 40, 768, 2000] : [300, 100, 200, 768, 20_000];
  const engine = await Engine.create({ executionProvider: (process.env.ONNX_EXECUTION_PROVIDER as 'cpu' | 'cuda' | 'auto') ?? 'cpu' });
  const rois = Array.from({ length: 10 }, (_, r) => ({ name: `roi${r}`, voxels: Array.from({ length: v / 10 }, (_, i) => r * (v / 10) + i) }));
  const runs: { seconds: number; predict: number; stats: number; summary: number; validated: number; activationOnly: number }[] = [];
  let images = 0;
  for (let c = 0; c < nConcepts; c++) {
    const concept = makeConcept(100 + c, nPos, nGroup, nBase, d, v);
    images = concept.n;
    const t0 = performance.now();
    const outcome = await runCausalTest(engine, {
      features: concept.X,
      weights: concept.W,
      unitNormFeatures: false,
      design: concept.design,
      splitSeed: c,
      rois,
      thresholds: { fdrQ: 0.05, minEffect: 0.5 },
    });
    const t1 = performance.now();
    const body = summarise({
      conceptQueryId: `concept-${c}`,
      concept: `concept-${c}`,
      outcome,
      design: concept.design,
      externalIds: Array.from({ length: concept.n }, (_, i) => `img${i}`),
      rois,
      thresholds: { fdrQ: 0.05, minEffect: 0.5 },
      noiseSd: new Float64Array(v).fill(1),
      measured: null,
      groundTruth: null,
    });
    const seconds = (performance.now() - t0) / 1000;
    runs.push({
      seconds,
      predict: outcome.timings.predictSeconds,
      stats: outcome.timings.statsSeconds,
      summary: (performance.now() - t1) / 1000,
      validated: body.counts.voxels.validatedCausal,
      activationOnly: body.counts.voxels.activationOnly,
    });
    console.log(`concept ${c}: ${seconds.toFixed(2)} s (predict ${outcome.timings.predictSeconds.toFixed(2)}, tests ${outcome.timings.statsSeconds.toFixed(2)}, summary ${runs[c].summary.toFixed(2)}); ${body.counts.voxels.validatedCausal} validated, ${body.counts.voxels.activationOnly} activation-only`);
  }
  const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)];
  console.log(
    JSON.stringify({
      bench: 'causal',
      seconds_per_concept: Number(median.seconds.toFixed(3)),
      voxels: v,
      images,
      features: d,
      concepts_timed: nConcepts,
      predict_seconds: Number(median.predict.toFixed(3)),
      tests_seconds: Number(median.stats.toFixed(3)),
      summary_seconds: Number(median.summary.toFixed(3)),
      minutes_for_260_concepts: Number(((260 * median.seconds) / 60).toFixed(1)),
      provider: engine.provider,
    }),
  );
}
