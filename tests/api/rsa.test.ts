// REPRESENTATIONAL_SIMILARITY through the API on the layer demo's planted data (V1's responses are
// readouts of the demo CNN's stage1 features, V4's of stage2, FFA's of stage3; src/embedded/demo-layers.ts):
// the run must find which layer shares each ROI's geometry, choosing on the selection stimuli, and its
// numbers must match a plain recomputation from the uploaded arrays (sort-based ranks, float64 CKA).
import { demoLayerInputs } from '../../src/embedded/demo-layers';
import { encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';

let api: TestApi;
let data: Awaited<ReturnType<typeof demoLayerInputs>>['data'];
let modelId: string;
let datasetId: string;
const subjects: { name: string; responseSetId: string; stimulusSetId: string; subjectId: string; featureSets: Record<string, string> }[] = [];

const SUBMIT = `mutation($i: RepresentationalSimilarityInput!) { submitRepresentationalSimilarity(input: $i) { id kind status params } }`;
const RESULT = `query($id: ID!) { run(id: $id) { status error { code message } outputs { name artifact { shape } }
  scores { metric scope value ciLow ciHigh normalized n extra roi { name } }
  representationalSimilarity { measures distance layers scopes nStimuli nSelection
    cells { layer layerIndex scope roi measure value normalized selectionValue best }
    bestLayers { scope roi measure layer layerIndex value ciLow ciHigh normalized selectionValue ceilingLower ceilingUpper ceilingMethod ceilingSubjects }
    heatmaps { stimuli { position externalId concepts } brain { label size values } model { label size values } } } } }`;

beforeAll(async () => {
  data = (await demoLayerInputs()).data;
  api = await startTestApi({ queue: 'in-process' });
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n, visibility: PUBLIC }) { id } }`, { n: uniqueName('rsa') });
  datasetId = ds.id;
  const { registerModel } = await api.ok(`mutation($n: String!) { registerModel(input: { name: $n, kind: BACKBONE }) { id } }`, { n: uniqueName('rsa-model') });
  modelId = registerModel.id;
  const imports: string[] = [];
  for (const s of data.subjects) {
    const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, { i: { datasetId, name: s.name, nVoxels: s.nVoxels, rois: s.rois } });
    const { createStimulusSet } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, { i: { datasetId, name: `${s.name}-images`, stimuli: s.stimuli } });
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
    subjects.push({ name: s.name, responseSetId: importResponseSet.responseSet.id, stimulusSetId: createStimulusSet.id, subjectId: createSubject.id, featureSets });
  }
  for (const id of imports) expect((await waitForRun(api, id)).status).toBe('SUCCEEDED');
}, 180_000);
afterAll(async () => {
  await api?.close();
});

// ---- A plain reference, written independently of src/compute/rsa ----

/** Rows of the demo subject at the given externalIds: repeat-mean over the voxels. */
function brainPatterns(s: (typeof data.subjects)[number], ids: string[], voxels: number[]): number[][] {
  const row = new Map(s.stimuli.map((x, i) => [x.externalId, i]));
  const n = s.stimuli.length;
  return ids.map((id) => {
    const i = row.get(id)!;
    return voxels.map((v) => {
      let m = 0;
      for (let r = 0; r < s.nRepeats; r++) m += s.responses[r * n * s.nVoxels + i * s.nVoxels + v];
      return m / s.nRepeats;
    });
  });
}

function featurePatterns(s: (typeof data.subjects)[number], layer: string, ids: string[]): number[][] {
  const row = new Map(s.stimuli.map((x, i) => [x.externalId, i]));
  const f = s.features.get(layer)!;
  return ids.map((id) => Array.from(f.values.subarray(row.get(id)! * f.width, (row.get(id)! + 1) * f.width)));
}

function pearson(a: number[], b: number[]): number {
  const ma = a.reduce((s, x) => s + x, 0) / a.length;
  const mb = b.reduce((s, x) => s + x, 0) / b.length;
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

function correlationRdm(p: number[][]): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) out.push(1 - pearson(p[i], p[j]));
  return out;
}

function ranks(x: number[]): number[] {
  const order = x.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j][0] === order[i][0]) j++;
    for (let k = i; k < j; k++) r[order[k][1]] = (i + j + 1) / 2;
    i = j;
  }
  return r;
}

function linearCka(x: number[][], y: number[][]): number {
  const centre = (m: number[][]) => {
    const mean = m[0].map((_, j) => m.reduce((s, r) => s + r[j], 0) / m.length);
    return m.map((r) => r.map((v, j) => v - mean[j]));
  };
  const gram = (m: number[][]) => m.map((a) => m.map((b) => a.reduce((s, v, k) => s + v * b[k], 0)));
  const K = gram(centre(x));
  const L = gram(centre(y));
  const dot = (A: number[][], B: number[][]) => A.reduce((s, r, i) => s + r.reduce((t, v, j) => t + v * B[i][j], 0), 0);
  return dot(K, L) / Math.sqrt(dot(K, K) * dot(L, L));
}

describe('REPRESENTATIONAL_SIMILARITY', () => {
  it('recovers which layer shares each ROI\'s geometry, and its numbers match a plain recomputation', async () => {
    const { createBenchmark: bench } = await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: RSA, metric: "rsa.spearman" }) { id } }`, { n: uniqueName('rsa-bench') });
    const s = subjects[0];
    const { submitRepresentationalSimilarity: submitted } = await api.ok(SUBMIT, { i: { modelId, responseSetId: s.responseSetId, bootstrapSamples: 200, benchmarkId: bench.id } });
    expect(submitted.kind).toBe('REPRESENTATIONAL_SIMILARITY');
    const p = submitted.params;
    expect(p.layers.map((l: any) => l.layer)).toEqual(['stage1', 'stage2', 'stage3']);
    // Default subset: the images both subjects saw; selection: the others, disjoint from them.
    const demo = data.subjects[0];
    const sharedIds = demo.stimuli.slice(-100).map((x) => x.externalId);
    expect([...p.stimulusIds].sort()).toEqual([...sharedIds].sort());
    expect(p.selectionStimulusIds).toHaveLength(400);
    expect(p.selectionStimulusIds.filter((id: string) => sharedIds.includes(id))).toEqual([]);

    const done = await waitForRun(api, submitted.id, 180_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    const { run } = await api.ok(RESULT, { id: submitted.id });
    const rsa = run.representationalSimilarity;
    expect(rsa).toMatchObject({ distance: 'correlation', layers: ['stage1', 'stage2', 'stage3'], nStimuli: 100, nSelection: 400 });
    expect(rsa.scopes[0]).toBe('all');

    // Planted truth, by every measure.
    for (const [roi, layer] of Object.entries(data.roiLayer))
      for (const measure of ['spearman', 'kendall_tau_a', 'pearson', 'cka_linear', 'cka_debiased']) {
        const best = rsa.bestLayers.find((b: any) => b.roi === roi && b.measure === measure);
        expect({ roi, measure, layer: best.layer }).toEqual({ roi, measure, layer });
      }

    for (const b of rsa.bestLayers) {
      // The chosen layer has the highest selection value, and its reported value is its cell's.
      const cells = rsa.cells.filter((c: any) => c.scope === b.scope && c.measure === b.measure);
      expect(cells).toHaveLength(3);
      const top = Math.max(...cells.map((c: any) => c.selectionValue));
      expect(b.selectionValue).toBe(top);
      const cell = cells.find((c: any) => c.layerIndex === b.layerIndex);
      expect(cell.best).toBe(true);
      expect(b.value).toBe(cell.value);
      expect(b.ciLow).toBeLessThanOrEqual(b.ciHigh);
      // Every measure's resamples leave out the pairs of a stimulus with its own copy (RDM pairs,
      // CKA's Gram entries), so every interval, CKA's included, brackets the estimate.
      expect({ measure: b.measure, scope: b.scope, low: b.ciLow <= b.value, high: b.ciHigh >= b.value }).toEqual({ measure: b.measure, scope: b.scope, low: true, high: true });
      // Two subjects saw the scored images: the ceiling is across subjects.
      expect(b).toMatchObject({ ceilingMethod: 'across-subjects', ceilingSubjects: 2 });
      expect(b.ceilingUpper).toBeGreaterThanOrEqual(b.ceilingLower);
      expect(b.normalized).toBeCloseTo(b.value / b.ceilingUpper, 10);
    }

    // Independent recomputation of two cells from the uploaded arrays.
    const ids: string[] = p.stimulusIds;
    const v1 = demo.rois.find((r) => r.name === 'V1')!.voxelIndices;
    const brain = brainPatterns(demo, ids, v1);
    const model = featurePatterns(demo, 'stage1', ids);
    const brainRdm = correlationRdm(brain);
    const modelRdm = correlationRdm(model);
    const cell = (measure: string, layer: string, roi: string) => rsa.cells.find((c: any) => c.measure === measure && c.layer === layer && c.roi === roi).value;
    expect(cell('spearman', 'stage1', 'V1')).toBeCloseTo(pearson(ranks(brainRdm), ranks(modelRdm)), 4);
    expect(cell('pearson', 'stage1', 'V1')).toBeCloseTo(pearson(brainRdm, modelRdm), 4);
    expect(cell('cka_linear', 'stage1', 'V1')).toBeCloseTo(linearCka(model, brain), 4);

    // Heatmaps: square RDMs over a sample of the scored stimuli, brain scopes and layers.
    const h = rsa.heatmaps;
    expect(h.stimuli).toHaveLength(60);
    expect(h.brain.map((m: any) => m.label)).toEqual(rsa.scopes);
    expect(h.model.map((m: any) => m.label)).toEqual(['stage1', 'stage2', 'stage3']);
    const first = ids.indexOf(h.stimuli[0].externalId);
    const second = ids.indexOf(h.stimuli[1].externalId);
    const v1Map = h.brain.find((m: any) => m.label === 'roi:V1');
    const pairIndex = (i: number, j: number) => i * ids.length - (i * (i + 1)) / 2 + (j - i - 1);
    expect(v1Map.values[1]).toBeCloseTo(brainRdm[pairIndex(Math.min(first, second), Math.max(first, second))], 4);
    expect(h.stimuli[0].concepts.length).toBeGreaterThan(0);

    // The leaderboard ranks each ROI's chosen-layer score and names the layer.
    const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, roi: "FFA") { totalCount edges { node { rank value layer run { id } } } } }`, { b: bench.id });
    expect(leaderboard.totalCount).toBe(1);
    const ffa = rsa.bestLayers.find((b: any) => b.roi === 'FFA' && b.measure === 'spearman');
    expect(leaderboard.edges[0].node).toMatchObject({ rank: 1, layer: 'stage3', value: ffa.value, run: { id: submitted.id } });
  }, 240_000);

  it('compares one feature set on a named subset, with a split-half ceiling when no other subject saw it', async () => {
    const s = subjects[0];
    const demo = data.subjects[0];
    // Training images only this subject saw: no across-subject ceiling is possible.
    const ids = demo.stimuli.slice(0, 40).map((x) => x.externalId);
    const { submitRepresentationalSimilarity: submitted } = await api.ok(SUBMIT, {
      i: { featureSetIds: [s.featureSets.stage2], responseSetId: s.responseSetId, stimulusIds: ids, comparisons: ['spearman', 'cka_debiased'], bootstrapSamples: 50, distance: 'euclidean' },
    });
    expect(submitted.params.selectionStimulusIds).toEqual([]);
    const done = await waitForRun(api, submitted.id, 120_000);
    expect(done.error).toBeNull();
    const { run } = await api.ok(RESULT, { id: submitted.id });
    const rsa = run.representationalSimilarity;
    expect(rsa.measures).toEqual(['spearman', 'cka_debiased']);
    expect(rsa.layers).toEqual(['stage2']);
    for (const b of rsa.bestLayers) {
      expect(b).toMatchObject({ layer: 'stage2', layerIndex: 0, selectionValue: null, ceilingMethod: 'split-half', ceilingSubjects: 1 });
    }
    expect(run.scores.find((x: any) => x.metric === 'rsa.spearman' && x.scope === 'roi:V4').extra).toMatchObject({ selectedBy: 'only layer', nSelection: 0 });
  }, 120_000);

  it('refuses bad requests before anything is queued', async () => {
    const [a, b] = subjects;
    const count = () => api.db.run.count({ where: { kind: 'REPRESENTATIONAL_SIMILARITY' } });
    const before = await count();
    const ids = data.subjects[0].stimuli.map((x) => x.externalId);
    const refuse = async (input: Record<string, unknown>, code: string, field: string | null, message: RegExp) => {
      const res = await api.gql(SUBMIT, { i: { responseSetId: a.responseSetId, ...input } });
      expect(res.errors?.[0].extensions).toMatchObject({ code, ...(field ? { field } : {}) });
      expect(res.errors?.[0].message).toMatch(message);
    };
    const missing = '00000000-0000-4000-8000-000000000000';
    await refuse({ modelId: missing }, 'NOT_FOUND', null, /Model/);
    await refuse({ featureSetIds: [missing] }, 'NOT_FOUND', null, /Feature set/);
    await refuse({ modelId, responseSetId: missing }, 'NOT_FOUND', null, /Response set/);
    await refuse({}, 'BAD_USER_INPUT', 'featureSetIds', /either featureSetIds or modelId/);
    // Features of the other subject's stimulus set: different stimuli.
    await refuse({ featureSetIds: [b.featureSets.stage1] }, 'BAD_USER_INPUT', 'featureSetIds', /cover other stimuli than the response set/);
    await refuse({ modelId, layers: ['stage1', 'block9'] }, 'BAD_USER_INPUT', 'layers', /1 layer\(s\) have no features .*"block9"\. Layers available: "stage1", "stage2", "stage3"/);
    await refuse({ modelId, stimulusIds: ids.slice(0, 3) }, 'BAD_USER_INPUT', 'stimulusIds', /has 3 stimuli; an RDM comparison needs at least 4/);
    await refuse({ modelId, stimulusIds: ['nope', ...ids.slice(0, 4)] }, 'BAD_USER_INPUT', 'stimulusIds', /not in the response set's stimulus set: "nope"/);
    await refuse({ modelId, bootstrapSamples: 10_001 }, 'BAD_USER_INPUT', 'bootstrapSamples', /bootstrapSamples must be an integer from 0 to 10000/);
    await refuse({ modelId, stimulusIds: ids }, 'BAD_USER_INPUT', 'stimulusIds', /needs at least 4 stimuli outside the scored subset \(0 available\)/);
    await refuse({ modelId, stimulusIds: ids.slice(0, 10), selectionStimulusIds: ids.slice(5, 20) }, 'BAD_USER_INPUT', 'selectionStimulusIds', /5 selection stimuli are also scored/);
    await refuse({ modelId, comparisons: ['spearman', 'spearman'] }, 'BAD_USER_INPUT', 'comparisons', /more than once: "spearman"/);
    const { createBenchmark: enc } = await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: ENCODING, metric: "pearson_r.mean" }) { id } }`, { n: uniqueName('not-rsa') });
    await refuse({ modelId, benchmarkId: enc.id }, 'BAD_USER_INPUT', 'benchmarkId', /of kind ENCODING; representational-similarity scores go on RSA benchmarks/);

    // A one-voxel ROI has a constant pattern everywhere: correlation distance is refused there.
    const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, {
      i: { datasetId, name: uniqueName('tiny'), nVoxels: 8, rois: [{ name: 'dot', voxelIndices: [3] }] },
    });
    const tiny = data.subjects[0];
    const betas = new Float32Array(tiny.stimuli.length * 8).map((_, i) => Math.sin(i));
    const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [tiny.stimuli.length, 8], data: betas }), 'tiny.npy');
    const { importResponseSet } = await api.ok(`mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } responseSet { id } } }`, {
      i: { subjectId: createSubject.id, stimulusSetId: a.stimulusSetId, artifactId: artifact.id },
    });
    expect((await waitForRun(api, importResponseSet.run.id)).status).toBe('SUCCEEDED');
    const tinyInput = { responseSetId: importResponseSet.responseSet.id, featureSetIds: [a.featureSets.stage1], stimulusIds: ids.slice(0, 20) };
    await refuse(tinyInput, 'BAD_USER_INPUT', 'distance', /ROI\(s\) "dot" have fewer than 2 voxels: correlation distance is undefined/);
    await refuse({ ...tinyInput, distance: 'crossnobis' }, 'BAD_USER_INPUT', 'distance', /crossnobis needs repeated presentations/);
    expect(await count()).toBe(before);
  }, 120_000);

  it('fails naming the stimuli whose pattern is constant over a scope', async () => {
    const a = subjects[0];
    const demo = data.subjects[0];
    // Responses where the first two stimuli are constant over every voxel.
    const nVoxels = demo.nVoxels;
    const values = new Float32Array(demo.stimuli.length * nVoxels).map((_, i) => Math.cos(i * 0.37));
    values.fill(0.5, 0, 2 * nVoxels);
    const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, { i: { datasetId, name: uniqueName('flat'), nVoxels, rois: [] } });
    const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [demo.stimuli.length, nVoxels], data: values }), 'flat.npy');
    const { importResponseSet } = await api.ok(`mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } responseSet { id } } }`, {
      i: { subjectId: createSubject.id, stimulusSetId: a.stimulusSetId, artifactId: artifact.id },
    });
    expect((await waitForRun(api, importResponseSet.run.id)).status).toBe('SUCCEEDED');
    const ids = demo.stimuli.slice(0, 10).map((x) => x.externalId);
    const { submitRepresentationalSimilarity: submitted } = await api.ok(SUBMIT, { i: { responseSetId: importResponseSet.responseSet.id, featureSetIds: [a.featureSets.stage1], stimulusIds: ids, bootstrapSamples: 0 } });
    const done = await waitForRun(api, submitted.id, 60_000);
    expect(done.status).toBe('FAILED');
    const { run } = await api.ok(`query($id: ID!) { run(id: $id) { error { code message } scores { metric } } }`, { id: submitted.id });
    expect(run.error.message).toMatch(new RegExp(`2 stimuli have a constant pattern over all voxels \\(${JSON.stringify(ids[0])}, ${JSON.stringify(ids[1])}\\): their correlation distance is undefined`));
    expect(run.scores).toEqual([]);
  }, 120_000);
});
