// ENCODING_ICL end to end through the API with a closed-form in-context encoder ("ridge in
// context"), whose weights and scores are recomputed here independently in float64.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { demoData } from '../../src/embedded/demo-data';
import { decodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { registerSynthetic, type RegisteredSubject } from '../helpers/synthetic-catalog';
import { uploadArtifact, waitForRun } from '../helpers/upload';
import { ridgeInContextEncoder } from './encoders';

const LAMBDA = 0.5;
const KS = [5, 20, 100];
const REPEATS = 2;
const T_975_DF1 = JSON.parse(readFileSync(path.join(__dirname, 'fixtures/t_intervals.json'), 'utf8')).quantile975['1'];
const SUBMIT = `mutation($i: EncodingIclInput!) { submitEncodingIcl(input: $i) { id status params } }`;
const data = demoData({ nTrain: 120, nShared: 40, roiScale: 0.05 });
const demo = data.subjects[0];
const E = demo.features.get('clip')!.width;

let api: TestApi;
let subjects: RegisteredSubject[];
let encoderId: string;
let limitedEncoderId: string;
let backboneId: string;

async function registerEncoder(bytes: Uint8Array): Promise<string> {
  const artifact = await uploadArtifact(api, bytes, 'ridge-in-context.onnx');
  const { registerModel } = await api.ok(`mutation($i: RegisterModelInput!) { registerModel(input: $i) { id featureWidth } }`, {
    i: { name: uniqueName('ridge-icl'), kind: 'IN_CONTEXT_ENCODER', artifactId: artifact.id, family: 'closed-form' },
  });
  expect(registerModel.featureWidth).toBe(E);
  return registerModel.id;
}

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  ({ subjects } = await registerSynthetic(api, data));
  encoderId = await registerEncoder(ridgeInContextEncoder({ featureWidth: E, lambda: LAMBDA }));
  limitedEncoderId = await registerEncoder(ridgeInContextEncoder({ featureWidth: E, lambda: LAMBDA, maxContext: 50 }));
  const fs = await api.db.featureSet.findUnique({ where: { id: subjects[0].featureSets.clip } });
  backboneId = fs!.modelId;
}, 180_000);
afterAll(() => api.close());

async function download(url: string) {
  const res = await fetch(url);
  return new Uint8Array(await res.arrayBuffer());
}

/** Unit-norm features and repeat-averaged responses of the demo subject, by stimulus externalId. */
function subjectArrays() {
  const f = demo.features.get('clip')!;
  const n = demo.stimuli.length;
  const V = demo.nVoxels;
  const row = new Map(demo.stimuli.map((s, i) => [s.externalId, i]));
  const x = (id: string) => {
    const i = row.get(id)!;
    const v = Array.from(f.values.subarray(i * E, (i + 1) * E));
    const norm = Math.sqrt(v.reduce((a, t) => a + t * t, 0));
    return v.map((t) => t / norm);
  };
  const y = (id: string) => {
    const i = row.get(id)!;
    return Array.from({ length: V }, (_, j) => {
      let s = 0;
      for (let r = 0; r < demo.nRepeats; r++) s += demo.responses[r * n * V + i * V + j];
      return s / demo.nRepeats;
    });
  };
  return { x, y, V };
}

/** Solves A z = b for symmetric positive definite A (Gaussian elimination, float64). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < n; c++) {
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const z = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * z[k];
    z[r] = s / M[r][r];
  }
  return z;
}

/** Closed-form ridge over a context, on the raw response scale: w (E x V), b (V). */
function closedForm(contextIds: string[], arrays: ReturnType<typeof subjectArrays>) {
  const X = contextIds.map(arrays.x);
  const Y = contextIds.map(arrays.y);
  const k = X.length;
  const xm = Array.from({ length: E }, (_, j) => X.reduce((a, r) => a + r[j], 0) / k);
  const Xc = X.map((r) => r.map((t, j) => t - xm[j]));
  const K = Xc.map((a, i) => Xc.map((b, l) => a.reduce((s, t, j) => s + t * b[j], 0) + (i === l ? LAMBDA : 0)));
  const w: number[][] = Array.from({ length: E }, () => new Array(arrays.V).fill(0));
  const b = new Array(arrays.V).fill(0);
  for (let v = 0; v < arrays.V; v++) {
    const ym = Y.reduce((a, r) => a + r[v], 0) / k;
    const alpha = solve(K, Y.map((r) => r[v] - ym));
    let xw = 0;
    for (let j = 0; j < E; j++) {
      w[j][v] = Xc.reduce((s, r, i) => s + r[j] * alpha[i], 0);
      xw += xm[j] * w[j][v];
    }
    b[v] = ym - xw;
  }
  return { w, b };
}

/** Explained variance 1 - Var(y - p) / Var(y) per voxel, written out from its definition. */
function explainedVariance(yTrue: number[][], yPred: number[][], v: number): number {
  const n = yTrue.length;
  const resid = yTrue.map((r, i) => r[v] - yPred[i][v]);
  const mr = resid.reduce((a, t) => a + t, 0) / n;
  const my = yTrue.reduce((a, r) => a + r[v], 0) / n;
  const vr = resid.reduce((a, t) => a + (t - mr) ** 2, 0);
  const vy = yTrue.reduce((a, r) => a + (r[v] - my) ** 2, 0);
  return 1 - vr / vy;
}

describe('ENCODING_ICL', () => {
  it('predicts the closed-form in-context weights and scores them as ENCODING_RIDGE does', async () => {
    const s = subjects[0];
    const { createBenchmark: bench } = await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: IN_CONTEXT, metric: "in_context.explained_variance.mean@k100" }) { id } }`, {
      n: uniqueName('icl-bench'),
    });
    const { submitEncodingIcl: submitted } = await api.ok(SUBMIT, {
      i: { featureSetId: s.featureSets.clip, responseSetId: s.responseSetId, modelId: encoderId, ks: KS, repeats: REPEATS, seed: 3, batchVoxels: 16, benchmarkId: bench.id },
    });
    expect(submitted.params).toMatchObject({ ks: KS, repeats: REPEATS, featureNormalization: 'unit-norm', compareRidge: true });
    expect(submitted.params.testStimulusIds).toHaveLength(40);
    const done = await waitForRun(api, submitted.id, 240_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.provenance).toMatchObject({ featureNormalization: 'unit-norm', nTrain: 120, nTest: 40, weightsFrom: { k: 100, repeat: 0 }, encoder: { variant: 'weights-only', featureWidth: E } });
    expect(done.provenance.inputs.encoder).toMatch(/^[0-9a-f]{64}$/);

    const { run } = await api.ok(`query($id: ID!) { run(id: $id) { outputs { name artifact { downloadUrl shape } }
      scores { metric scope value ciLow ciHigh normalized n extra roi { name } } } }`, { id: submitted.id });
    const out = Object.fromEntries(run.outputs.map((o: any) => [o.name, o.artifact]));
    const curves = JSON.parse(new TextDecoder().decode(await download(out.curves.downloadUrl)));
    expect(curves.ks).toEqual(KS);
    expect(curves.contextStimuli).toHaveLength(REPEATS);
    const arrays = subjectArrays();
    const testIds: string[] = submitted.params.testStimulusIds;
    const testX = testIds.map(arrays.x);
    const testY = testIds.map(arrays.y);

    // Stored weights: the largest k, first repeat, [E + 1, V] with the intercept last.
    expect(out.weights.shape).toEqual([E + 1, arrays.V]);
    const stored = decodeNpy(await download(out.weights.downloadUrl)).data as Float32Array;
    const ref = closedForm(curves.contextStimuli[0].slice(0, 100), arrays);
    const scale = Math.max(...ref.w.flat().map(Math.abs));
    for (let j = 0; j < E; j += 7) for (let v = 0; v < arrays.V; v++) expect(Math.abs(stored[j * arrays.V + v] - ref.w[j][v])).toBeLessThan(2e-3 * scale);
    for (let v = 0; v < arrays.V; v++) expect(stored[E * arrays.V + v]).toBeCloseTo(ref.b[v], 3);

    // Every in-context score: the mean over repeats of the voxel-mean EV of the closed-form fit.
    const evPerVoxel = new Map<string, number[]>();
    for (const k of KS)
      for (let r = 0; r < REPEATS; r++) {
        const fit = closedForm(curves.contextStimuli[r].slice(0, k), arrays);
        const pred = testX.map((x) => fit.b.map((b, v) => b + x.reduce((a, t, j) => a + t * fit.w[j][v], 0)));
        evPerVoxel.set(`${k}:${r}`, Array.from({ length: arrays.V }, (_, v) => explainedVariance(testY, pred, v)));
      }
    const scopes: [string, number[]][] = [['all', Array.from({ length: arrays.V }, (_, i) => i)], ...demo.rois.map((roi) => [`roi:${roi.name}`, roi.voxelIndices] as [string, number[]])];
    const { responseSet } = await api.ok(`query($id: ID!) { responseSet(id: $id) { noiseCeiling { downloadUrl } } }`, { id: s.responseSetId });
    const ncPercent = decodeNpy(await download(responseSet.noiseCeiling.downloadUrl)).data as Float32Array;
    for (const k of KS) {
      for (const [scope, voxels] of scopes) {
        const perRepeat = Array.from({ length: REPEATS }, (_, r) => voxels.reduce((a, v) => a + evPerVoxel.get(`${k}:${r}`)![v], 0) / voxels.length);
        const mean = perRepeat.reduce((a, t) => a + t, 0) / REPEATS;
        const sd = Math.sqrt(perRepeat.reduce((a, t) => a + (t - mean) ** 2, 0) / (REPEATS - 1));
        const score = run.scores.find((x: any) => x.metric === `in_context.explained_variance.mean@k${k}` && x.scope === scope);
        expect(score.value).toBeCloseTo(mean, 3);
        expect(score.ciLow).toBeCloseTo(mean - (T_975_DF1 * sd) / Math.sqrt(REPEATS), 3);
        expect(score.ciHigh).toBeCloseTo(mean + (T_975_DF1 * sd) / Math.sqrt(REPEATS), 3);
        expect(score).toMatchObject({ n: REPEATS, extra: { k, repeats: REPEATS, nVoxels: voxels.length } });
        // Normalised: the scope's mean of each voxel's repeat-mean EV over its noise ceiling (NC / 100).
        const ratios = voxels
          .filter((v) => ncPercent[v] > 0)
          .map((v) => (evPerVoxel.get(`${k}:0`)![v] + evPerVoxel.get(`${k}:1`)![v]) / 2 / (ncPercent[v] / 100));
        expect(score.normalized).toBeCloseTo(ratios.reduce((a, t) => a + t, 0) / ratios.length, 3);
        if (scope !== 'all') expect(score.roi.name).toBe(scope.slice(4));
        const ridge = run.scores.find((x: any) => x.metric === `ridge.explained_variance.mean@k${k}` && x.scope === scope);
        expect(Number.isFinite(ridge.value)).toBe(true);
        expect(run.scores.find((x: any) => x.metric === `in_context.pearson_r.mean@k${k}` && x.scope === scope)).toBeDefined();
      }
    }
    // Per-voxel EV per k: the repeat mean of the same per-voxel values.
    expect(out.inContextExplainedVariance.shape).toEqual([KS.length, arrays.V]);
    const voxelEv = decodeNpy(await download(out.inContextExplainedVariance.downloadUrl)).data as Float32Array;
    const last = KS.length - 1;
    for (let v = 0; v < arrays.V; v++) expect(voxelEv[last * arrays.V + v]).toBeCloseTo((evPerVoxel.get(`100:0`)![v] + evPerVoxel.get(`100:1`)![v]) / 2, 3);
    expect(out.ridgeExplainedVariance.shape).toEqual([KS.length, arrays.V]);

    // The typed curves for dashboards agree with the scores.
    const { run: typed } = await api.ok(`query($id: ID!) { run(id: $id) { testTimeScaling { metric ks repeats interval
      curves { method scope roi { name } points { k mean ciLow ciHigh values } } } } }`, { id: submitted.id });
    const tts = typed.testTimeScaling;
    expect(tts).toMatchObject({ metric: 'explained_variance', ks: KS, repeats: REPEATS });
    expect(tts.curves).toHaveLength(2 * (1 + demo.rois.length));
    const overall = tts.curves.find((c: any) => c.method === 'IN_CONTEXT' && c.scope === 'all');
    expect(overall.points.map((p: any) => p.k)).toEqual(KS);
    const at100 = run.scores.find((x: any) => x.metric === 'in_context.explained_variance.mean@k100' && x.scope === 'all');
    expect(overall.points[2].mean).toBe(at100.value);
    expect(overall.points[2].values).toHaveLength(REPEATS);
    const ffa = await api.ok(`query($id: ID!) { run(id: $id) { testTimeScaling(metric: "pearson_r", roi: "FFA") { curves { method scope roi { name } } } } }`, { id: submitted.id });
    expect(ffa.run.testTimeScaling.curves.map((c: any) => [c.method, c.scope, c.roi.name]).sort()).toEqual([['IN_CONTEXT', 'roi:FFA', 'FFA'], ['RIDGE', 'roi:FFA', 'FFA']]);

    // The in-context benchmark's board at k = 100 lists the run.
    const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b) { totalCount edges { node { rank value run { id } model { id } } } } }`, { b: bench.id });
    expect(leaderboard.totalCount).toBe(1);
    expect(leaderboard.edges[0].node).toMatchObject({ rank: 1, value: at100.value, run: { id: submitted.id }, model: { id: encoderId } });
  }, 300_000);

  it('refuses bad requests before anything is queued, saying what to change', async () => {
    const s = subjects[0];
    const before = await api.db.run.count({ where: { kind: 'ENCODING_ICL' } });
    const base = { featureSetId: s.featureSets.clip, responseSetId: s.responseSetId, modelId: encoderId };
    const refuse = async (input: Record<string, unknown>, field: string, message: RegExp) => {
      const { errors } = await api.gql(SUBMIT, { i: { ...base, ...input } });
      expect(errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(errors?.[0].message).toMatch(message);
    };
    await refuse({ ks: [10, 1000] }, 'ks[1]', /a context of 1000 images is larger than the response set, which has 160 stimuli/);
    await refuse({ ks: [130] }, 'ks[0]', /ks\[0\] = 130 exceeds the 120 training stimuli available \(the other 40 are held out for testing\)/);
    await refuse({ ks: [25, 100], modelId: limitedEncoderId }, 'ks[1]', /exceeds the largest context .* accepts \(brainalign.max_context = 50\)/);
    await refuse({ featureSetId: s.featureSets.dino }, 'featureSetId', /are 768 wide but the encoder .* reads E = 512/);
    await refuse({ modelId: backboneId }, 'modelId', /is a BACKBONE; ENCODING_ICL needs an IN_CONTEXT_ENCODER/);
    await refuse({ ks: [2] }, 'ks[0]', /at least 3 images/);
    await refuse({ repeats: 0 }, 'repeats', /repeats must be an integer from 1/);
    expect(await api.db.run.count({ where: { kind: 'ENCODING_ICL' } })).toBe(before);
  });

  it('keeps only the default context sizes the data and the model allow', async () => {
    const s = subjects[1];
    const { submitEncodingIcl: run } = await api.ok(SUBMIT, {
      i: { featureSetId: s.featureSets.clip, responseSetId: s.responseSetId, modelId: limitedEncoderId, compareRidge: false, repeats: 1 },
    });
    expect(run.params.ks).toEqual([10, 25, 50]);
    const done = await waitForRun(api, run.id, 120_000);
    expect(done.status).toBe('SUCCEEDED');
  }, 180_000);
});
