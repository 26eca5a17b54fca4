// An import whose run ends FAILED or CANCELLED leaves its set FAILED, in the same transaction,
// and the same name can be imported again: whether the worker was killed until the queue gave up,
// the handler crashed on its last attempt, or the import was cancelled while queued.
import { storeArtifact } from '../../src/domain/artifacts';
import { executeRun } from '../../src/runs/executor';
import { markFailed } from '../../src/runs/transitions';
import type { HandlerRegistry } from '../../src/runs/types';
import { encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';

jest.setTimeout(60_000);

let api: TestApi;
let subjectId: string;
let stimulusSetId: string;
let modelId: string;
let artifactId: string;
let featureArtifactId: string;

const IMPORT = `mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } responseSet { id status } } }`;
const IMPORT_FEATURES = `mutation($i: ImportFeatureSetInput!) { importFeatureSet(input: $i) { run { id } featureSet { id status } } }`;

beforeAll(async () => {
  api = await startTestApi();
  const db = api.db;
  const lab = api.services.defaultLabId;
  const dataset = await db.dataset.create({ data: { labId: lab, name: uniqueName('imp-ds') } });
  subjectId = (await db.subject.create({ data: { datasetId: dataset.id, name: 'subj01', nVoxels: 2 } })).id;
  stimulusSetId = (await db.stimulusSet.create({ data: { datasetId: dataset.id, name: 'images', stimuli: { create: [0, 1, 2].map((i) => ({ position: i, externalId: `img-${i}` })) } } })).id;
  modelId = (await db.model.create({ data: { labId: lab, name: uniqueName('imp-m'), kind: 'BACKBONE' } })).id;
  const npy = encodeNpy({ dtype: '<f4', shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  artifactId = (await storeArtifact(api.services, npy, { filename: 'betas.npy', labId: lab })).id;
  featureArtifactId = (await storeArtifact(api.services, encodeNpy({ dtype: '<f4', shape: [3, 2], data: new Float32Array([6, 5, 4, 3, 2, 1]) }), { filename: 'f.npy', labId: lab })).id;
});
afterAll(() => api?.close());

const status = async (id: string) => (await api.db.responseSet.findUniqueOrThrow({ where: { id } })).status;

it('a worker killed until the queue gives up: the set is FAILED with the reason, and re-importing the name works', async () => {
  const name = uniqueName('killed');
  const first = (await api.ok(IMPORT, { i: { subjectId, stimulusSetId, name, artifactId } })).importResponseSet;
  // The first worker marked the set IMPORTING before it died.
  await api.db.responseSet.update({ where: { id: first.responseSet.id }, data: { status: 'IMPORTING' } });
  await api.db.run.update({ where: { id: first.run.id }, data: { status: 'RUNNING' } });
  // What the worker does when the queue moves a job to failed after its stalled attempts.
  expect(await markFailed(api.db, first.run.id, { code: 'INTERNAL', message: 'The queue gave up on this run: job stalled more than allowable limit' })).toBe(true);
  const set = await api.db.responseSet.findUniqueOrThrow({ where: { id: first.responseSet.id } });
  expect(set.status).toBe('FAILED');
  expect(set.error).toMatch(/import run .* failed: The queue gave up/);

  const again = (await api.ok(IMPORT, { i: { subjectId, stimulusSetId, name, artifactId } })).importResponseSet;
  expect(again.responseSet.id).toBe(first.responseSet.id);
  expect(again.responseSet.status).toBe('PENDING');
  expect(again.run.id).not.toBe(first.run.id);
});

it('a handler that crashes on its last attempt fails the run and the set together', async () => {
  const name = uniqueName('crash');
  const { run, responseSet } = (await api.ok(IMPORT, { i: { subjectId, stimulusSetId, name, artifactId } })).importResponseSet;
  const handlers = {
    IMPORT_RESPONSES: async () => {
      await api.db.responseSet.update({ where: { id: responseSet.id }, data: { status: 'IMPORTING' } });
      throw new Error('ECONNRESET reading the store');
    },
  } as unknown as HandlerRegistry;
  await expect(executeRun(run.id, { db: api.db, store: api.services.store, handlers, attempt: 3, maxAttempts: 3, progressIntervalMs: 0 })).rejects.toThrow(/ECONNRESET/);
  expect((await api.db.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe('FAILED');
  expect(await status(responseSet.id)).toBe('FAILED');
});

it('a retry that is still to come leaves the set as it is', async () => {
  const name = uniqueName('retry');
  const { run, responseSet } = (await api.ok(IMPORT, { i: { subjectId, stimulusSetId, name, artifactId } })).importResponseSet;
  const handlers = {
    IMPORT_RESPONSES: async () => {
      await api.db.responseSet.update({ where: { id: responseSet.id }, data: { status: 'IMPORTING' } });
      throw new Error('ECONNRESET reading the store');
    },
  } as unknown as HandlerRegistry;
  await expect(executeRun(run.id, { db: api.db, store: api.services.store, handlers, attempt: 1, maxAttempts: 3, progressIntervalMs: 0 })).rejects.toThrow();
  expect((await api.db.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe('QUEUED');
  expect(await status(responseSet.id)).toBe('IMPORTING');
});

it('a cancelled import (queued response set, and feature set) is FAILED and can be imported again', async () => {
  const name = uniqueName('cancel');
  const { run, responseSet } = (await api.ok(IMPORT, { i: { subjectId, stimulusSetId, name, artifactId } })).importResponseSet;
  await api.ok(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: run.id });
  expect((await api.db.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe('CANCELLED');
  expect(await status(responseSet.id)).toBe('FAILED');
  expect((await api.ok(IMPORT, { i: { subjectId, stimulusSetId, name, artifactId } })).importResponseSet.responseSet.status).toBe('PENDING');

  const f = (await api.ok(IMPORT_FEATURES, { i: { modelId, stimulusSetId, artifactId: featureArtifactId } })).importFeatureSet;
  await api.ok(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: f.run.id });
  expect((await api.db.featureSet.findUniqueOrThrow({ where: { id: f.featureSet.id } })).status).toBe('FAILED');
  const again = (await api.ok(IMPORT_FEATURES, { i: { modelId, stimulusSetId, artifactId: featureArtifactId } })).importFeatureSet;
  expect(again.featureSet).toEqual({ id: f.featureSet.id, status: 'PENDING' });
});

it('an old import ending late does not fail the newer import of the same set', async () => {
  const name = uniqueName('late');
  const first = (await api.ok(IMPORT, { i: { subjectId, stimulusSetId, name, artifactId } })).importResponseSet;
  await api.db.responseSet.update({ where: { id: first.responseSet.id }, data: { status: 'FAILED' } });
  const second = (await api.ok(IMPORT, { i: { subjectId, stimulusSetId, name, artifactId } })).importResponseSet;
  await markFailed(api.db, first.run.id, { code: 'INTERNAL', message: 'late' });
  expect(await status(second.responseSet.id)).toBe('PENDING');
});
