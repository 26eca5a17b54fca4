import { encodeNpy } from '../../src/storage';
import { RecordingQueue, startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact } from '../helpers/upload';

let api: TestApi;
const queue = new RecordingQueue();
beforeAll(async () => {
  api = await startTestApi({ queue, env: { QUEUE_PREFIX: 'runs-test-namespace' } });
});
afterAll(() => api.close());

const IMPORT = `mutation($input: ImportFeatureSetInput!) { importFeatureSet(input: $input) { run { id kind status params } featureSet { id status } } }`;

async function catalog() {
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: uniqueName('runs') });
  const { createStimulusSet: set } = await api.ok(`mutation($d: ID!) { createStimulusSet(input: { datasetId: $d, name: "s", stimuli: [{ externalId: "a" }, { externalId: "b" }] }) { id } }`, { d: ds.id });
  const { registerModel: model } = await api.ok(`mutation($n: String!) { registerModel(input: { name: $n, kind: BACKBONE, featureWidth: 3 }) { id } }`, { n: uniqueName('clip') });
  const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [2, 3], data: new Float32Array(6) }), 'f.npy');
  return { stimulusSetId: set.id, modelId: model.id, artifactId: artifact.id };
}

describe('runs', () => {
  it('writes the run QUEUED, then enqueues it; the same idempotency key returns the same run', async () => {
    const input = { ...(await catalog()), idempotencyKey: uniqueName('key') };
    const first = (await api.ok(IMPORT, { input })).importFeatureSet;
    expect(first.run).toMatchObject({ kind: 'IMPORT_FEATURES', status: 'QUEUED' });
    expect(first.featureSet.status).toBe('PENDING');
    expect(queue.enqueued).toContainEqual({ runId: first.run.id, kind: 'IMPORT_FEATURES' });
    // The namespace it was queued in is recorded: only that namespace's reconciler re-enqueues it.
    expect((await api.db.run.findUniqueOrThrow({ where: { id: first.run.id } })).queuePrefix).toBe(api.services.config.queuePrefix);
    const second = (await api.ok(IMPORT, { input })).importFeatureSet;
    expect(second.run.id).toBe(first.run.id);
    expect(await api.db.run.count({ where: { idempotencyKey: input.idempotencyKey } })).toBe(1);
  });

  it('refuses an idempotency key reused for different work', async () => {
    const a = await catalog();
    const b = await catalog();
    const key = uniqueName('key');
    await api.ok(IMPORT, { input: { ...a, idempotencyKey: key } });
    const body = await api.gql(IMPORT, { input: { ...b, idempotencyKey: key } });
    expect(body.errors?.[0].extensions.code).toBe('CONFLICT');
    expect(await api.db.featureSet.count({ where: { modelId: b.modelId } })).toBe(0);
  });

  it('cancels a queued run at once and refuses to cancel it twice', async () => {
    const { run } = (await api.ok(IMPORT, { input: await catalog() })).importFeatureSet;
    const { cancelRun } = await api.ok(`mutation($id: ID!) { cancelRun(id: $id) { status finishedAt } }`, { id: run.id });
    expect(cancelRun.status).toBe('CANCELLED');
    expect(queue.cancelled).toContain(run.id);
    const again = await api.gql(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: run.id });
    expect(again.errors?.[0].extensions.code).toBe('CONFLICT');
  });

  it('lists runs with filters', async () => {
    const { run } = (await api.ok(IMPORT, { input: await catalog() })).importFeatureSet;
    const { runs } = await api.ok(`{ runs(first: 100, filter: { kind: IMPORT_FEATURES, status: QUEUED }) { totalCount edges { node { id kind status } } } }`);
    expect(runs.edges.map((e: any) => e.node.id)).toContain(run.id);
    expect(runs.edges.every((e: any) => e.node.status === 'QUEUED')).toBe(true);
  });

  it('refuses features whose width disagrees with the model before queueing', async () => {
    const c = await catalog();
    const wide = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [2, 5], data: new Float32Array(10) }), 'wide.npy');
    const body = await api.gql(IMPORT, { input: { ...c, artifactId: wide.id } });
    expect(body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0].message).toMatch(/width 5 .* featureWidth 3/);
  });
});
