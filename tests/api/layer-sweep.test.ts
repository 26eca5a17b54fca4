// LAYER_SWEEP through the API on the demo CNN's layers with a planted answer (V1 from stage1, V4
// from stage2, FFA from stage3 of the backbone's own features on the demo images;
// src/embedded/demo-layers.ts), checked against the truth and against a direct computation from
// the child runs' own outputs.
import { handlers } from '../../src/jobs/registry';
import { demoLayerInputs } from '../../src/embedded/demo-layers';
import { executeRun } from '../../src/runs/executor';
import { reconcileOnce } from '../../src/runs/reconciler';
import { markFailed } from '../../src/runs/transitions';
import { decodeNpy, encodeNpy } from '../../src/storage';
import { RecordingQueue, startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';

let api: TestApi;
/** The same database and store with a queue that only records: runs are executed by hand. */
let manual: TestApi;
let queue: RecordingQueue;
// Exactly the data the embedded demo seeds, so its sweep is known to recover the planted layers.
let data: Awaited<ReturnType<typeof demoLayerInputs>>['data'];
let modelId: string;
let otherModelId: string;
const subjects: { name: string; responseSetId: string; stimulusSetId: string; featureSets: Record<string, string> }[] = [];

const SUBMIT = `mutation($i: LayerSweepInput!) { submitLayerSweep(input: $i) { id kind status params children { id kind parent { id } } } }`;
const PROFILE = `query($id: ID!) { run(id: $id) { status error { code message } outputs { name artifact { downloadUrl shape } }
  scores { metric scope value ciLow ciHigh n extra roi { name } }
  children { id kind status params outputs { name artifact { downloadUrl } } scores { metric scope value ciLow ciHigh normalized } }
  layerProfile { metric selectionMetric layers scopes cells { layer layerIndex scope roi value ciLow ciHigh cvValue best run { id } }
    bestLayers { scope roi layer layerIndex value ciLow ciHigh cvValue } } } }`;

beforeAll(async () => {
  data = (await demoLayerInputs()).data;
  api = await startTestApi({ queue: 'in-process' });
  queue = new RecordingQueue();
  manual = await startTestApi({ db: api.db, store: api.services.store, queue });
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n, visibility: PUBLIC }) { id } }`, { n: uniqueName('layers') });
  const register = async (name: string) =>
    (await api.ok(`mutation($n: String!) { registerModel(input: { name: $n, kind: BACKBONE }) { id } }`, { n: uniqueName(name) })).registerModel.id;
  modelId = await register(data.model.name);
  otherModelId = await register('other-model');
  const imports: string[] = [];
  for (const s of data.subjects) {
    const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, { i: { datasetId: ds.id, name: s.name, nVoxels: s.nVoxels, rois: s.rois } });
    const { createStimulusSet } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, { i: { datasetId: ds.id, name: `${s.name}-images`, stimuli: s.stimuli } });
    const featureSets: Record<string, string> = {};
    for (const [layer, f] of s.features) {
      const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [s.stimuli.length, f.width], data: f.values }), `${s.name}-${layer}.npy`);
      const { importFeatureSet } = await api.ok(`mutation($i: ImportFeatureSetInput!) { importFeatureSet(input: $i) { run { id } featureSet { id } } }`, {
        i: { modelId, stimulusSetId: createStimulusSet.id, artifactId: artifact.id, layer },
      });
      featureSets[layer] = importFeatureSet.featureSet.id;
      imports.push(importFeatureSet.run.id);
    }
    const betas = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [s.nRepeats, s.stimuli.length, s.nVoxels], data: s.responses }), `${s.name}-betas.npy`);
    const { importResponseSet } = await api.ok(`mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } responseSet { id } } }`, {
      i: { subjectId: createSubject.id, stimulusSetId: createStimulusSet.id, artifactId: betas.id },
    });
    imports.push(importResponseSet.run.id);
    subjects.push({ name: s.name, responseSetId: importResponseSet.responseSet.id, stimulusSetId: createStimulusSet.id, featureSets });
  }
  for (const id of imports) expect((await waitForRun(api, id)).status).toBe('SUCCEEDED');
}, 180_000);
afterAll(async () => {
  await manual?.close();
  await api?.close();
});

async function download(url: string): Promise<Float32Array> {
  const res = await fetch(url);
  return decodeNpy(new Uint8Array(await res.arrayBuffer())).data as Float32Array;
}

const meanFinite = (xs: number[]) => {
  const f = xs.filter(Number.isFinite);
  return f.reduce((a, x) => a + x, 0) / f.length;
};

describe('LAYER_SWEEP', () => {
  it('recovers each ROI\'s planted layer, and its numbers are the child runs\' own', async () => {
    const { createBenchmark: bench } = await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: ENCODING, metric: "layer_sweep.pearson_r.mean" }) { id } }`, {
      n: uniqueName('layer-sweep'),
    });
    const s = subjects[0];
    const { submitLayerSweep: sweep } = await api.ok(SUBMIT, { i: { modelId, responseSetId: s.responseSetId, bootstrapSamples: 100, benchmarkId: bench.id } });
    expect(sweep).toMatchObject({ kind: 'LAYER_SWEEP' });
    // Layers default to every layer with features for the subject's stimuli, in the order they were added.
    expect(sweep.params.layers.map((l: any) => l.layer)).toEqual(['stage1', 'stage2', 'stage3']);
    expect(sweep.children).toHaveLength(3);
    for (const c of sweep.children) expect(c).toMatchObject({ kind: 'ENCODING_RIDGE', parent: { id: sweep.id } });

    const done = await waitForRun(api, sweep.id, 180_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    // Waiting deliveries are not attempts.
    expect(done.attempts).toBe(1);
    const { run } = await api.ok(PROFILE, { id: sweep.id });
    const profile = run.layerProfile;
    expect(profile).toMatchObject({ metric: 'pearson_r.mean', selectionMetric: 'cv.r2.mean', layers: ['stage1', 'stage2', 'stage3'] });
    expect(profile.scopes[0]).toBe('all');
    const best = Object.fromEntries(profile.bestLayers.map((b: any) => [b.scope, b]));

    // Planted truth.
    for (const [roi, layer] of Object.entries(data.roiLayer)) expect(best[`roi:${roi}`].layer).toBe(layer);

    // Direct computation from the children's outputs: per-voxel CV maps -> ROI means -> argmax;
    // the reported value and CI are the chosen child's test score for the ROI.
    const children = run.children;
    expect(children.map((c: any) => c.params.featureSetId)).toEqual(['stage1', 'stage2', 'stage3'].map((l) => s.featureSets[l]));
    const cvMaps = await Promise.all(children.map((c: any) => download(c.outputs.find((o: any) => o.name === 'cvScore').artifact.downloadUrl)));
    const rMaps = await Promise.all(children.map((c: any) => download(c.outputs.find((o: any) => o.name === 'pearsonR').artifact.downloadUrl)));
    const demo = data.subjects[0];
    const scopes = [{ scope: 'all', voxels: Array.from({ length: demo.nVoxels }, (_, j) => j) }, ...demo.rois.map((r) => ({ scope: `roi:${r.name}`, voxels: r.voxelIndices }))];
    for (const { scope, voxels } of scopes) {
      const cvMeans = cvMaps.map((m) => meanFinite(voxels.map((j) => m[j])));
      const chosen = cvMeans.indexOf(Math.max(...cvMeans));
      expect(best[scope].layerIndex).toBe(chosen);
      expect(best[scope].cvValue).toBeCloseTo(cvMeans[chosen], 5);
      const childScore = children[chosen].scores.find((x: any) => x.metric === 'pearson_r.mean' && x.scope === scope);
      expect(childScore.value).toBeCloseTo(meanFinite(voxels.map((j) => rMaps[chosen][j])), 5);
      expect(best[scope]).toMatchObject({ value: childScore.value, ciLow: childScore.ciLow, ciHigh: childScore.ciHigh });
      const sweepScore = run.scores.find((x: any) => x.metric === 'layer_sweep.pearson_r.mean' && x.scope === scope);
      expect(sweepScore).toMatchObject({ value: childScore.value, ciLow: childScore.ciLow, ciHigh: childScore.ciHigh });
      expect(sweepScore.extra).toMatchObject({ layer: ['stage1', 'stage2', 'stage3'][chosen], layerIndex: chosen, runId: children[chosen].id, selectedBy: 'cv.r2.mean' });
      // Every cell is that layer's own score.
      for (let l = 0; l < 3; l++) {
        const cell = profile.cells.find((c: any) => c.scope === scope && c.layerIndex === l);
        const own = children[l].scores.find((x: any) => x.metric === 'pearson_r.mean' && x.scope === scope);
        expect(cell).toMatchObject({ value: own.value, ciLow: own.ciLow, ciHigh: own.ciHigh, best: l === chosen, run: { id: children[l].id } });
        expect(cell.cvValue).toBeCloseTo(cvMeans[l], 5);
      }
    }

    // Per voxel: index of the best CV score over the children's maps.
    const out = Object.fromEntries(run.outputs.map((o: any) => [o.name, o.artifact]));
    expect(out.bestLayer.shape).toEqual([demo.nVoxels]);
    const [bestLayer, bestR] = await Promise.all([download(out.bestLayer.downloadUrl), download(out.bestLayerPearsonR.downloadUrl)]);
    for (let j = 0; j < demo.nVoxels; j++) {
      const col = cvMaps.map((m) => m[j]);
      const k = col.indexOf(Math.max(...col));
      expect(bestLayer[j]).toBe(k);
      expect(bestR[j]).toBe(rMaps[k][j]);
    }
    // Most planted voxels individually prefer their layer too (a real CNN's stages overlap, so a
    // low-SNR voxel can pick a neighbour; the ROI means above are what the sweep reports).
    for (const [roi, layer] of Object.entries(data.roiLayer)) {
      const voxels = demo.rois.find((r) => r.name === roi)!.voxelIndices;
      const k = ['stage1', 'stage2', 'stage3'].indexOf(layer);
      expect(voxels.filter((j) => bestLayer[j] === k).length).toBeGreaterThan(0.6 * voxels.length);
    }

    // The model-level score and the leaderboard: one row (the sweep, not its children), naming the layer.
    expect(run.scores.find((x: any) => x.metric === 'layer_sweep.pearson_r.mean' && x.scope === 'all').extra.layer).toBe(best.all.layer);
    const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, roi: "FFA") { totalCount edges { node { rank value layer run { id } } } } }`, { b: bench.id });
    expect(leaderboard.totalCount).toBe(1);
    expect(leaderboard.edges[0].node).toMatchObject({ rank: 1, layer: 'stage3', value: best['roi:FFA'].value, run: { id: sweep.id } });
  }, 240_000);

  it('waits on its children through the ledger and chooses by CV even when the test scores disagree', async () => {
    const s = subjects[1];
    const { submitLayerSweep: sweep } = await manual.ok(SUBMIT, { i: { modelId, responseSetId: s.responseSetId, layers: ['stage3', 'stage1'], bootstrapSamples: 0 } });
    expect(queue.enqueued.map((j) => j.runId)).toEqual([...sweep.children.map((c: any) => c.id), sweep.id]);
    const options = { db: manual.db, store: manual.services.store, handlers };
    // Children still queued: the sweep goes back to QUEUED, showing what it waits for, no attempt counted.
    const early = await executeRun(sweep.id, options);
    expect(early).toMatchObject({ outcome: 'WAITING', retryAfterMs: expect.any(Number) });
    let row = await manual.db.run.findUniqueOrThrow({ where: { id: sweep.id } });
    expect(row).toMatchObject({ status: 'QUEUED', attempts: 0, progressMessage: 'Waiting for 2 of 2 layer fits (child ENCODING_RIDGE runs)' });
    // A reconciler pass over a queue that lost every job re-enqueues the sweep and its children: harmless.
    const empty = new RecordingQueue();
    const report = await reconcileOnce({ db: manual.db, queue: empty, where: { id: { in: [sweep.id, ...sweep.children.map((c: any) => c.id)] } } });
    expect(report.requeued.map((j) => j.runId).sort()).toEqual([sweep.id, ...sweep.children.map((c: any) => c.id)].sort());

    const [stage3, stage1] = sweep.children;
    expect((await executeRun(stage3.id, options)).outcome).toBe('SUCCEEDED');
    expect((await executeRun(sweep.id, options)).outcome).toBe('WAITING');
    row = await manual.db.run.findUniqueOrThrow({ where: { id: sweep.id } });
    expect(row.progress).toBeCloseTo(0.45, 5);
    expect((await executeRun(stage1.id, options)).outcome).toBe('SUCCEEDED');

    // Make the test set favour stage1 for FFA (a layer CV does not choose): the sweep must ignore it.
    const cv = async (runId: string) => (await manual.db.score.findFirstOrThrow({ where: { runId, metric: 'cv.r2.mean', scope: 'roi:FFA' } })).value;
    expect(await cv(stage3.id)).toBeGreaterThan(await cv(stage1.id));
    await manual.db.score.updateMany({ where: { runId: stage1.id, metric: 'pearson_r.mean', scope: 'roi:FFA' }, data: { value: 0.99, ciLow: 0.98, ciHigh: 1 } });
    const stage3Test = await manual.db.score.findFirstOrThrow({ where: { runId: stage3.id, metric: 'pearson_r.mean', scope: 'roi:FFA' } });
    expect(stage3Test.value).toBeLessThan(0.99);

    expect((await executeRun(sweep.id, options)).outcome).toBe('SUCCEEDED');
    const { run } = await manual.ok(PROFILE, { id: sweep.id });
    expect(run.layerProfile.layers).toEqual(['stage3', 'stage1']);
    const ffa = run.layerProfile.bestLayers.find((b: any) => b.roi === 'FFA');
    expect(ffa).toMatchObject({ layer: 'stage3', layerIndex: 0, value: stage3Test.value });
    // The profile still shows stage1's (higher) test score in its cell, unchosen.
    expect(run.layerProfile.cells.find((c: any) => c.roi === 'FFA' && c.layer === 'stage1')).toMatchObject({ value: 0.99, best: false });
    expect((await manual.db.run.findUniqueOrThrow({ where: { id: sweep.id } })).attempts).toBe(1);
  }, 180_000);

  it('fails naming the layer whose fit failed, and cancels the fits still open', async () => {
    const s = subjects[1];
    const { submitLayerSweep: sweep } = await manual.ok(SUBMIT, { i: { modelId, responseSetId: s.responseSetId, bootstrapSamples: 0 } });
    const [first, second] = sweep.children;
    await markFailed(manual.db, second.id, { code: 'BAD_INPUT', message: 'features.npy has 7 stimulus rows but the stimulus set has 380' });
    const result = await executeRun(sweep.id, { db: manual.db, store: manual.services.store, handlers });
    expect(result.outcome).toBe('FAILED');
    const { run } = await manual.ok(`query($id: ID!) { run(id: $id) { status error { code message details } children { id status } } }`, { id: sweep.id });
    expect(run.error.message).toBe(
      `The fit of layer "stage2" (ENCODING_RIDGE run ${second.id}) failed: features.npy has 7 stimulus rows but the stimulus set has 380 [BAD_INPUT]`,
    );
    expect(run.error.details).toMatchObject({ layer: 'stage2', runId: second.id, status: 'FAILED' });
    expect(Object.fromEntries(run.children.map((c: any) => [c.id, c.status]))).toMatchObject({ [first.id]: 'CANCELLED', [second.id]: 'FAILED' });
    // A cancelled child's queued job is now a no-op.
    expect((await executeRun(first.id, { db: manual.db, store: manual.services.store, handlers })).outcome).toBe('SKIPPED');
  });

  it('cancelling the sweep cancels its open children', async () => {
    const s = subjects[1];
    const { submitLayerSweep: sweep } = await manual.ok(SUBMIT, { i: { modelId, responseSetId: s.responseSetId, bootstrapSamples: 0 } });
    await executeRun(sweep.children[0].id, { db: manual.db, store: manual.services.store, handlers });
    const { cancelRun } = await manual.ok(`mutation($id: ID!) { cancelRun(id: $id) { status children { id status } } }`, { id: sweep.id });
    expect(cancelRun.status).toBe('CANCELLED');
    expect(cancelRun.children.map((c: any) => c.status)).toEqual(['SUCCEEDED', 'CANCELLED', 'CANCELLED']);
    expect(queue.cancelled).toEqual(expect.arrayContaining([sweep.id, sweep.children[1].id, sweep.children[2].id]));
  });

  it('refuses bad requests before anything is queued, listing the offenders', async () => {
    const [a, b] = subjects;
    const count = () => manual.db.run.count({ where: { kind: { in: ['LAYER_SWEEP', 'ENCODING_RIDGE'] } } });
    const before = await count();
    const refuse = async (input: Record<string, unknown>, field: string, message: RegExp) => {
      const res = await manual.gql(SUBMIT, { i: { modelId, responseSetId: a.responseSetId, ...input } });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0].message).toMatch(message);
    };
    await refuse({ layers: ['stage1', 'block9', 'fc'] }, 'layers', /2 layer\(s\) have no features .*"block9", "fc"\. Layers available: "stage1", "stage2", "stage3"/);
    await refuse({ layers: ['stage1', 'stage1'] }, 'layers', /more than once: "stage1"/);
    await refuse({ layers: [] }, 'layers', /at least one layer/);
    await refuse({ modelId: otherModelId }, 'modelId', /has no features for stimulus set/);
    await refuse({ alphas: [1, -2] }, 'alphas[1]', /ridge penalties must be finite and > 0/);
    await refuse({ folds: 1 }, 'folds', /folds must be an integer from 2 to 50/);
    await refuse({ testStimulusIds: ['nope'] }, 'testStimulusIds', /not in the stimulus set: "nope"/);
    await refuse({ benchmarkId: '00000000-0000-4000-8000-000000000000' }, 'benchmarkId', /does not exist/);

    // A layer whose features are still importing (and one only present for another stimulus set).
    const pending = await manual.db.featureSet.create({ data: { modelId, stimulusSetId: a.stimulusSetId, layer: 'stage4', status: 'PENDING' } });
    await manual.db.featureSet.create({ data: { modelId, stimulusSetId: b.stimulusSetId, layer: 'head', status: 'READY' } });
    await refuse({}, 'layers', /1 layer\(s\) are not READY yet: "stage4 \(PENDING\)"/);
    await refuse({ layers: ['stage1', 'head'] }, 'layers', /"head" only for other stimulus sets/);
    await manual.db.featureSet.delete({ where: { id: pending.id } });

    const missing = await manual.gql(SUBMIT, { i: { modelId: '00000000-0000-4000-8000-000000000000', responseSetId: a.responseSetId } });
    expect(missing.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect(await count()).toBe(before);
  });
});
