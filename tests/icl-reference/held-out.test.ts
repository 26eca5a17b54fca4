// The shipped reference encoder on a subject it never saw (eval01 of the reference population):
// with few in-context images it predicts held-out responses better than ridge fit on the same
// images (explained variance on the shared test images, as BraInCoRL reports), and it improves as
// the context grows.
import { iclReferenceConfig, ICL_EVALUATION_SUBJECTS } from '../../src/compute/icl/reference-data';
import { explainedVariance, nanMean } from '../../src/compute/metrics';
import { affine, matrix, type Engine, type Graph, type Matrix } from '../../src/compute/onnx';
import { Rng } from '../../src/compute/random';
import { ridgeCv } from '../../src/compute/ridge';
import { averageRepeats, generateSynthetic, takeRows } from '../../src/compute/synthetic';
import { join } from 'node:path';
import { MODEL_DIR, cpuEngine, onnxFileGraph, releaseEngine } from './helpers';

const ALPHAS = Array.from({ length: 9 }, (_, i) => 10 ** (-3 + i)); // logspace(-3, 5, 9)
const KS = [10, 25, 50, 100];
const DRAWS = 2;

function unitRows(m: Matrix<Float32Array>): Matrix<Float32Array> {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) {
    let ss = 0;
    for (let j = 0; j < m.cols; j++) ss += m.data[i * m.cols + j] ** 2;
    const inv = 1 / Math.sqrt(ss);
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = m.data[i * m.cols + j] * inv;
  }
  return matrix(out, m.rows, m.cols);
}

/** The contract's caller: z-scored context responses in, readouts mapped back to the raw scale. */
async function inContextPredict(engine: Engine, graph: Graph, ctxX: Matrix<Float32Array>, ctxY: Matrix<Float32Array>, testX: Matrix<Float32Array>): Promise<Matrix<Float32Array>> {
  const k = ctxX.rows;
  const E = ctxX.cols;
  const V = ctxY.cols;
  const ctxUnit = unitRows(ctxX);
  const W = new Float32Array(E * V); // (E, V) for affine
  const bias = new Float32Array(V);
  const batch = 256;
  for (let v0 = 0; v0 < V; v0 += batch) {
    const b = Math.min(batch, V - v0);
    const img = new Float32Array(b * k * E);
    const nrn = new Float32Array(b * k);
    const mean = new Float64Array(b);
    const sd = new Float64Array(b);
    for (let v = 0; v < b; v++) {
      img.set(ctxUnit.data, v * k * E);
      for (let s = 0; s < k; s++) mean[v] += ctxY.data[s * V + v0 + v] / k;
      for (let s = 0; s < k; s++) sd[v] += (ctxY.data[s * V + v0 + v] - mean[v]) ** 2 / k;
      sd[v] = Math.sqrt(sd[v]);
      for (let s = 0; s < k; s++) nrn[v * k + s] = sd[v] > 0 ? (ctxY.data[s * V + v0 + v] - mean[v]) / sd[v] : 0;
    }
    const w = (await engine.run(graph, { ic_img: { data: img, dims: [b, k, E] }, ic_nrn: { data: nrn, dims: [b, k] } })).weights.data as Float32Array;
    for (let v = 0; v < b; v++) {
      for (let j = 0; j < E; j++) W[j * V + v0 + v] = sd[v] > 0 ? w[v * (E + 1) + j] * sd[v] : 0;
      bias[v0 + v] = sd[v] > 0 ? w[v * (E + 1) + E] * sd[v] + mean[v] : mean[v];
    }
  }
  return affine(engine, unitRows(testX), matrix(W, E, V), bias);
}

afterAll(releaseEngine);

test('held-out subject: the reference encoder beats ridge at k <= 50 and rises with k', async () => {
  const engine = await cpuEngine();
  const graph = onnxFileGraph(join(MODEL_DIR, 'reference.onnx'), ['ic_img', 'ic_nrn'], ['weights']);
  const subjectId = ICL_EVALUATION_SUBJECTS[0];
  const ds = generateSynthetic(iclReferenceConfig([subjectId], { nTrainPerSubject: 600, nSharedTest: 400 }));
  const subject = ds.subjects[0];
  const X = ds.features.clip;
  const poolY = averageRepeats(subject.train);
  const testX = takeRows(X, subject.testStimuli);
  const testY = averageRepeats(subject.test);
  const rng = new Rng(11);
  const curve: { k: number; encoder: number; ridge: number }[] = [];
  for (const k of KS) {
    let enc = 0;
    let rid = 0;
    for (let d = 0; d < DRAWS; d++) {
      const pick = rng.permutation(subject.trainStimuli.length).subarray(0, k);
      const ctxX = takeRows(X, Array.from(pick, (i) => subject.trainStimuli[i]));
      const ctxY = takeRows(poolY, pick);
      enc += nanMean(explainedVariance(testY, await inContextPredict(engine, graph, ctxX, ctxY, testX))) / DRAWS;
      const fit = await ridgeCv(engine, ctxX, ctxY, { alphas: ALPHAS, folds: 5, fitIntercept: true });
      rid += nanMean(explainedVariance(testY, await affine(engine, testX, matrix(fit.weights, X.cols, ctxY.cols), fit.intercept))) / DRAWS;
    }
    curve.push({ k, encoder: enc, ridge: rid });
  }
  // Failures list the offending points of the curve with their numbers.
  expect(curve.filter((c) => c.k <= 50 && !(c.encoder > c.ridge))).toEqual([]);
  expect(curve.filter((c, i) => i > 0 && !(c.encoder > curve[i - 1].encoder))).toEqual([]);
  expect(curve[0].encoder).toBeGreaterThan(0);
}, 300_000);
