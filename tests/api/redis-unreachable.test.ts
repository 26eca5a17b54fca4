// The API with its Redis unreachable (a closed port): /healthz says so with 503, a submission
// answers UNAVAILABLE at once while its run row stays QUEUED for the reconciler, reads keep
// working, and the production process stops on SIGTERM whatever Redis does.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { storeArtifact } from '../../src/domain/artifacts';
import { createBullmqQueue, type BullmqJobQueue } from '../../src/queue/bullmq-queue';
import { reconcileOnce } from '../../src/runs/reconciler';
import { encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { testDatabaseUrl, uniqueName } from '../helpers/db';
import { freePort } from '../helpers/ports';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');
let api: TestApi;
let queue: BullmqJobQueue;
let deadRedis: string;

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

beforeAll(async () => {
  deadRedis = `redis://127.0.0.1:${await closedPort()}`;
  queue = createBullmqQueue({ redisUrl: deadRedis, prefix: `${process.env.TEST_QUEUE_PREFIX}_dead`, attempts: 3, commandTimeoutMs: 500 });
  api = await startTestApi({ queue, env: { REDIS_URL: deadRedis, QUEUE_TIMEOUT_MS: '500' } });
});
afterAll(async () => {
  await api?.close();
  await queue?.close();
});

it('/healthz answers 503 naming Redis, and PostgreSQL as fine', async () => {
  const res = await fetch(api.url.replace('/graphql', '/healthz'));
  expect(res.status).toBe(503);
  const body = (await res.json()) as any;
  expect(body.ok).toBe(false);
  expect(body.checks.postgres.ok).toBe(true);
  expect(body.checks.redis).toMatchObject({ ok: false });
  expect(body.checks.redis.error).toMatch(/unreachable/);
});

it('an import answers UNAVAILABLE without hanging; its run stays QUEUED and the same key returns it', async () => {
  const db = api.db;
  const dataset = await db.dataset.create({ data: { labId: api.services.defaultLabId, name: uniqueName('dead-redis') } });
  const subject = await db.subject.create({ data: { datasetId: dataset.id, name: 'subj01', nVoxels: 2 } });
  const set = await db.stimulusSet.create({ data: { datasetId: dataset.id, name: 'images', stimuli: { create: [0, 1, 2].map((i) => ({ position: i, externalId: `img-${i}` })) } } });
  const npy = encodeNpy({ dtype: '<f4', shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  const artifact = await storeArtifact(api.services, npy, { filename: 'betas.npy', labId: api.services.defaultLabId });
  const key = uniqueName('key');
  const IMPORT = `mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id status } } }`;
  const input = { subjectId: subject.id, stimulusSetId: set.id, artifactId: artifact.id, idempotencyKey: key };

  const res = await api.gql(IMPORT, { i: input });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'UNAVAILABLE', status: 'QUEUED' });
  expect(res.errors?.[0].message).toMatch(/queued automatically when the queue is back/);
  const runId = res.errors![0].extensions.runId as string;
  expect((await db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('QUEUED');
  // Nothing half-written: the set row exists with its run, waiting.
  expect((await db.responseSet.findFirstOrThrow({ where: { subjectId: subject.id } })).status).toBe('PENDING');

  // The reconciler finds it open and tries again (and fails quietly while Redis is down).
  const report = await reconcileOnce({ db, queue, log: () => undefined } as never).catch(() => null);
  void report;
  expect((await db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('QUEUED');

  // Submitting again with the key returns the saved run (no second row).
  expect((await api.ok(IMPORT, { i: input })).importResponseSet.run).toEqual({ id: runId, status: 'QUEUED' });
  expect(await db.run.count({ where: { idempotencyKey: key } })).toBe(1);

  // Reads need no queue.
  expect((await api.ok(`query($id: ID!) { run(id: $id) { id status } }`, { id: runId })).run).toEqual({ id: runId, status: 'QUEUED' });
  // Cancelling needs no queue either: the request is recorded and the queued run ends.
  expect((await api.ok(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: runId })).cancelRun.status).toBe('CANCELLED');
});

it('the production process started against the unreachable Redis is ready, then stops on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      BRAINALIGN_PROFILE: 'production',
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL: deadRedis,
      ARTIFACT_STORE: 'fs',
      DATA_DIR: path.join(os.tmpdir(), uniqueName('dead-redis')),
      UPLOAD_SECRET: 'dead-redis-upload-secret-0123456789',
      SITE_KEY_SECRET: 'dead-redis-site-key-secret-0123456789abcdef',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      QUEUE_TIMEOUT_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '5000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    for (let i = 0; i < 600 && !/ready in/.test(output); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toMatch(/ready in/);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(503);
    child.kill('SIGTERM');
    // Exits by itself (cleanly, or at SHUTDOWN_TIMEOUT_MS); jest's timeout is the only clock here.
    const code = await exited;
    expect(output.replace(/^\{.*\}$/gm, '')).toMatch(/stopping .*at most 5 s/);
    // 0: every connection closed in time; 1: SHUTDOWN_TIMEOUT_MS cut it short, as stated.
    expect([0, 1]).toContain(code);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

describe('with Redis up', () => {
  it('/healthz answers 200 with both checks ok', async () => {
    const live = createBullmqQueue({ redisUrl: process.env.TEST_REDIS_URL!, prefix: `${process.env.TEST_QUEUE_PREFIX}_live`, attempts: 1 });
    const up = await startTestApi({ queue: live, env: { REDIS_URL: process.env.TEST_REDIS_URL! } });
    try {
      const res = await fetch(up.url.replace('/graphql', '/healthz'));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, checks: { postgres: { ok: true }, redis: { ok: true } } });
    } finally {
      await up.close();
      await live.close();
    }
  });
});
