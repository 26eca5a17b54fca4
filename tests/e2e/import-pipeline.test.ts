// The whole pipe in production shape: GraphQL API -> S3 store (emulator) -> BullMQ -> a worker in
// its own process -> PostgreSQL, then the results read back by GraphQL.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createBullmqQueue } from '../../src/queue/bullmq-queue';
import { decodeNpy, encodeNpy, S3ArtifactStore } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { testDatabaseUrl, uniqueName } from '../helpers/db';
import { s3Env, startS3Emulator, type S3Emulator } from '../helpers/s3-emulator';
import { uploadArtifact, waitForRun } from '../helpers/upload';

const ROOT = path.resolve(__dirname, '../..');
let s3: S3Emulator;
let api: TestApi;
let worker: ChildProcess;
const prefix = `${process.env.TEST_QUEUE_PREFIX}_e2e`;

beforeAll(async () => {
  s3 = await startS3Emulator();
  const store = S3ArtifactStore.fromConfig({ ...s3, useSSL: false });
  const queue = createBullmqQueue({ redisUrl: process.env.TEST_REDIS_URL!, prefix, attempts: 3 });
  api = await startTestApi({ store, queue });
  worker = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['src/worker.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...s3Env(s3),
      BRAINALIGN_PROFILE: 'production',
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL: process.env.TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      UPLOAD_SECRET: 'e2e-upload-secret-0123456789',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
});

afterAll(async () => {
  worker?.kill('SIGTERM');
  await new Promise((r) => worker?.once('exit', r));
  await api?.services.queue.close();
  await api?.close();
  await s3?.stop();
});

/** A catalog of one subject and nStimuli stimuli, via GraphQL. */
async function registerSubject(nStimuli: number, nVoxels: number) {
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: uniqueName('e2e') });
  const { createSubject: subject } = await api.ok(
    `mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id } }`,
    { input: { datasetId: ds.id, name: 'subj01', nVoxels, rois: [{ name: 'FFA', voxelIndices: [0, 1] }] } },
  );
  const { createStimulusSet: set } = await api.ok(
    `mutation($input: CreateStimulusSetInput!) { createStimulusSet(input: $input) { id } }`,
    { input: { datasetId: ds.id, name: 'images', stimuli: Array.from({ length: nStimuli }, (_, i) => ({ externalId: `img-${i}` })) } },
  );
  return { subjectId: subject.id, stimulusSetId: set.id };
}

const IMPORT = `mutation($input: ImportResponseSetInput!) { importResponseSet(input: $input) { run { id status } responseSet { id status } } }`;
const READ = `query($id: ID!) { responseSet(id: $id) { status nRepeats noiseCeilingMedian error
  voxelMean { downloadUrl shape } voxelSd { downloadUrl } noiseCeiling { downloadUrl } } }`;

async function download(url: string): Promise<Float32Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`download ${url} -> ${res.status} ${await res.text()}`);
  return decodeNpy(new Uint8Array(await res.arrayBuffer())).data as Float32Array;
}

describe('response import through BullMQ and a worker process', () => {
  it('streams the array, computes per-voxel statistics and the NSD noise ceiling, and marks the set READY', async () => {
    const [R, N, V] = [3, 40, 6];
    const { subjectId, stimulusSetId } = await registerSubject(N, V);
    // y[r, n, v] = signal[n, v] + noise[r, n, v], small integers so every statistic is exact.
    const data = new Float32Array(R * N * V);
    for (let r = 0; r < R; r++)
      for (let n = 0; n < N; n++)
        for (let v = 0; v < V; v++) data[(r * N + n) * V + v] = ((n * (v + 1)) % 7) + (v === 5 ? 0 : ((r + n + v) % 3) - 1) * (v + 1);
    const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [R, N, V], data }), 'betas.npy');

    const { importResponseSet } = await api.ok(IMPORT, { input: { subjectId, stimulusSetId, artifactId: artifact.id, idempotencyKey: 'import-1' } });
    expect(importResponseSet.run.status).toBe('QUEUED');
    // The same idempotency key returns the same run.
    const again = await api.ok(IMPORT, { input: { subjectId, stimulusSetId, artifactId: artifact.id, idempotencyKey: 'import-1' } });
    expect(again.importResponseSet.run.id).toBe(importResponseSet.run.id);

    const run = await waitForRun(api, importResponseSet.run.id);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.provenance.inputs['betas.npy']).toBe(artifact.sha256);

    const { responseSet } = await api.ok(READ, { id: importResponseSet.responseSet.id });
    expect(responseSet).toMatchObject({ status: 'READY', nRepeats: 3, error: null });
    expect(responseSet.voxelMean.shape).toEqual([V]);
    const [mean, sd, nc] = await Promise.all(
      [responseSet.voxelMean, responseSet.voxelSd, responseSet.noiseCeiling].map((a: any) => download(a.downloadUrl)),
    );
    // Reference: the definitions written out directly over the whole array.
    for (let v = 0; v < V; v++) {
      const all: number[] = [];
      let within = 0;
      for (let n = 0; n < N; n++) {
        const reps = [0, 1, 2].map((r) => data[(r * N + n) * V + v]);
        all.push(...reps);
        const m = reps.reduce((a, b) => a + b) / R;
        within += reps.reduce((a, b) => a + (b - m) ** 2, 0) / (R - 1);
      }
      const mu = all.reduce((a, b) => a + b) / all.length;
      const ss = all.reduce((a, b) => a + (b - mu) ** 2, 0);
      expect(mean[v]).toBeCloseTo(mu, 5);
      expect(sd[v]).toBeCloseTo(Math.sqrt(ss / all.length), 5); // numpy's np.std (ddof 0)
      const noise = within / N / (ss / (all.length - 1)); // NSD z-scores with the sample SD

      const snr2 = Math.max(0, 1 - noise) / noise;
      const expected = noise === 0 ? 100 : (100 * snr2) / (snr2 + 1 / R);
      expect(nc[v]).toBeCloseTo(expected, 3);
    }
    expect(nc[5]).toBe(100); // no noise at all: the ceiling is 100%
  });

  it('fails a run on NaN with the row and column, marks the set FAILED, and does not retry', async () => {
    const [N, V] = [10, 4];
    const { subjectId, stimulusSetId } = await registerSubject(N, V);
    const data = new Float32Array(N * V).fill(1);
    data[7 * V + 2] = NaN;
    const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [N, V], data }), 'nan.npy');
    const { importResponseSet } = await api.ok(IMPORT, { input: { subjectId, stimulusSetId, artifactId: artifact.id } });
    const run = await waitForRun(api, importResponseSet.run.id);
    expect(run.status).toBe('FAILED');
    expect(run.attempts).toBe(1);
    expect(run.error.message).toMatch(/NaN at stimulus row 7, column 2/);
    const { responseSet } = await api.ok(READ, { id: importResponseSet.responseSet.id });
    expect(responseSet.status).toBe('FAILED');
    expect(responseSet.voxelMean).toBeNull();
  });

  it('refuses an array whose shape disagrees with the catalog before anything is queued', async () => {
    const { subjectId, stimulusSetId } = await registerSubject(10, 4);
    const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [9, 4], data: new Float32Array(36) }), 'short.npy');
    const runsBefore = await api.db.run.count();
    const body = await api.gql(IMPORT, { input: { subjectId, stimulusSetId, artifactId: artifact.id } });
    expect(body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0].message).toMatch(/9 stimulus rows .* 10 stimuli/);
    expect(await api.db.run.count()).toBe(runsBefore);
    expect(await api.db.responseSet.count({ where: { subjectId } })).toBe(0);
  });
});
