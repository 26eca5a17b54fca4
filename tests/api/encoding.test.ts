// ENCODING_RIDGE through the API on synthetic data with a planted ground truth.
import { generateSynthetic, defaultSyntheticConfig, roiSet } from '../../src/compute/synthetic';
import { demoData } from '../../src/embedded/demo-data';
import { decodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { registerSynthetic, type RegisteredSubject } from '../helpers/synthetic-catalog';
import { waitForRun } from '../helpers/upload';

let api: TestApi;
let subjects: RegisteredSubject[];
const SUBMIT = `mutation($i: EncodingRidgeInput!) { submitEncodingRidge(input: $i) { id status params } }`;
const data = demoData({ nTrain: 300, nShared: 80, roiScale: 0.1 });

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  ({ subjects } = await registerSynthetic(api, data));
}, 120_000);
afterAll(() => api.close());

async function download(url: string): Promise<Float32Array> {
  const res = await fetch(url);
  return decodeNpy(new Uint8Array(await res.arrayBuffer())).data as Float32Array;
}

describe('ENCODING_RIDGE', () => {
  it('fits on the training stimuli, scores the stimuli shared by all subjects, and stores maps and ROI scores', async () => {
    const s = subjects[0];
    const { submitEncodingRidge: submitted } = await api.ok(SUBMIT, { i: { featureSetId: s.featureSets.clip, responseSetId: s.responseSetId, bootstrapSamples: 200 } });
    // The default split is NSD's: the stimuli every subject saw.
    expect(submitted.params.testStimulusIds).toHaveLength(80);
    // Alphas are chosen by himalaya RidgeCV's default criterion unless the request names another.
    expect(submitted.params.selectionScore).toBe('l2_neg_loss');
    const done = await waitForRun(api, submitted.id, 120_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.provenance).toMatchObject({ nTrain: 300, nTest: 80, engine: { provider: 'cpu' }, selectionScore: 'l2_neg_loss' });
    expect(done.provenance.inputs.features).toMatch(/^[0-9a-f]{64}$/);

    const { run } = await api.ok(`query($id: ID!) { run(id: $id) { outputs { name artifact { downloadUrl shape } }
      scores { metric scope value ciLow ciHigh normalized n roi { name } } } }`, { id: submitted.id });
    const out = Object.fromEntries(run.outputs.map((o: any) => [o.name, o.artifact]));
    const demo = data.subjects[0];
    expect(out.weights.shape).toEqual([data.backbones[0].width + 1, demo.nVoxels]);
    const [r, ev, nEv] = await Promise.all([out.pearsonR, out.explainedVariance, out.normalizedExplainedVariance].map((a: any) => download(a.downloadUrl)));

    // Every ROI score is the aggregate of the per-voxel map over the ROI's voxels, inside its CI.
    for (const roi of demo.rois) {
      const score = run.scores.find((x: any) => x.metric === 'pearson_r.mean' && x.scope === `roi:${roi.name}`);
      const mean = roi.voxelIndices.reduce((a, j) => a + r[j], 0) / roi.voxelIndices.length;
      expect(score.value).toBeCloseTo(mean, 5);
      expect(score.roi.name).toBe(roi.name);
      expect(score.n).toBe(roi.voxelIndices.length);
      expect(score.ciLow).toBeLessThanOrEqual(score.value);
      expect(score.ciHigh).toBeGreaterThanOrEqual(score.value);
      const evScore = run.scores.find((x: any) => x.metric === 'explained_variance.mean' && x.scope === `roi:${roi.name}`);
      // Voxels without a ceiling (NC = 0) have no normalised value and are left out of the mean.
      const finite = roi.voxelIndices.map((j) => nEv[j]).filter(Number.isFinite);
      expect(evScore.normalized).toBeCloseTo(finite.reduce((a, x) => a + x, 0) / finite.length, 5);
    }
    expect(run.scores.find((x: any) => x.metric === 'pearson_r.median' && x.scope === 'all').n).toBe(demo.nVoxels);
    expect(Array.from(ev).every((x) => x <= 1)).toBe(true);
  }, 120_000);

  it('recovers the planted signal: held-out r follows each voxel\'s true ceiling', async () => {
    // Regenerate the ground truth the demo data came from (same seed and sizes).
    const truth = generateSynthetic(
      defaultSyntheticConfig({
        seed: 2024,
        nTrainPerSubject: 300,
        nSharedTest: 80,
        subjects: [
          { id: 'subj01', rois: roiSet(0.1) },
          { id: 'subj02', rois: roiSet(0.08) },
          { id: 'subj05', rois: roiSet(0.13) },
        ],
      }),
    );
    const s = subjects[0];
    const { createBenchmark: bench } = await api.ok(`mutation { createBenchmark(input: { name: "synthetic-encoding", kind: ENCODING, metric: "pearson_r.mean" }) { id } }`);
    const { submitEncodingRidge: submitted } = await api.ok(SUBMIT, {
      i: { featureSetId: s.featureSets.dino, responseSetId: s.responseSetId, bootstrapSamples: 0, benchmarkId: bench.id },
    });
    expect((await waitForRun(api, submitted.id, 120_000)).status).toBe('SUCCEEDED');
    // The run reaches the benchmark's leaderboard with what produced it.
    const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, roi: "FFA") { edges { node { rank value subject { name } provenance run { id } } } } }`, { b: bench.id });
    expect(leaderboard.edges).toHaveLength(1);
    expect(leaderboard.edges[0].node).toMatchObject({ rank: 1, subject: { name: 'subj01' }, run: { id: submitted.id } });
    expect(leaderboard.edges[0].node.provenance.inputs.features).toMatch(/^[0-9a-f]{64}$/);
    const { run } = await api.ok(`query($id: ID!) { run(id: $id) { outputs { name artifact { downloadUrl } } } }`, { id: submitted.id });
    const r = await download(run.outputs.find((o: any) => o.name === 'pearsonR').artifact.downloadUrl);
    // Correlation of the averaged measurement with the noise-free signal: sqrt(NC) in closed form.
    const snr = truth.subjects[0].snr;
    const ceilingR = Array.from(snr, (x) => Math.sqrt((x * x) / (x * x + 1 / 3)));
    const corr = pearson(Array.from(r), ceilingR);
    expect(corr).toBeGreaterThan(0.8);
    const excess = Array.from(r).filter((x, j) => x > ceilingR[j] + 0.1).length;
    expect(excess).toBeLessThan(0.05 * r.length);
  }, 120_000);

  it('passes voxelBatch through to the fit (default: chosen from the shapes)', async () => {
    const s = subjects[0];
    const { submitEncodingRidge: run } = await api.ok(SUBMIT, { i: { featureSetId: s.featureSets.clip, responseSetId: s.responseSetId, bootstrapSamples: 0, voxelBatch: 50 } });
    expect(run.params.voxelBatch).toBe(50);
    const done = await waitForRun(api, run.id, 120_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.provenance.voxelBatch).toBe(50);
  }, 120_000);

  it('refuses bad requests before anything is queued', async () => {
    const [a, b] = subjects;
    const before = await api.db.run.count({ where: { kind: 'ENCODING_RIDGE' } });
    const mixed = await api.gql(SUBMIT, { i: { featureSetId: b.featureSets.clip, responseSetId: a.responseSetId } });
    expect(mixed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'featureSetId' });
    expect(mixed.errors?.[0].message).toMatch(/different stimulus sets/);
    const zeroAlpha = await api.gql(SUBMIT, { i: { featureSetId: a.featureSets.clip, responseSetId: a.responseSetId, alphas: [1, 0] } });
    expect(zeroAlpha.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'alphas[1]' });
    const folds = await api.gql(SUBMIT, { i: { featureSetId: a.featureSets.clip, responseSetId: a.responseSetId, folds: 50, testStimulusIds: data.subjects[0].stimuli.slice(0, 290).map((x) => x.externalId) } });
    expect(folds.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'folds' });
    const unknown = await api.gql(SUBMIT, { i: { featureSetId: a.featureSets.clip, responseSetId: a.responseSetId, testStimulusIds: ['no-such-image'] } });
    expect(unknown.errors?.[0].message).toMatch(/not in the stimulus set: "no-such-image"/);
    for (const voxelBatch of [0, 65537]) {
      const batch = await api.gql(SUBMIT, { i: { featureSetId: a.featureSets.clip, responseSetId: a.responseSetId, voxelBatch } });
      expect(batch.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'voxelBatch' });
    }
    const missing = await api.gql(SUBMIT, { i: { featureSetId: '00000000-0000-4000-8000-000000000000', responseSetId: a.responseSetId } });
    expect(missing.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect(await api.db.run.count({ where: { kind: 'ENCODING_RIDGE' } })).toBe(before);
  });
});

function pearson(a: number[], b: number[]): number {
  const ma = a.reduce((x, y) => x + y) / a.length;
  const mb = b.reduce((x, y) => x + y) / b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  a.forEach((x, i) => {
    sab += (x - ma) * (b[i] - mb);
    saa += (x - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  });
  return sab / Math.sqrt(saa * sbb);
}
