// The reconciler keeps "a run never disappears" true when the queue loses jobs.
import type { Db } from '../../src/db/client';
import { createBullmqQueue } from '../../src/queue/bullmq-queue';
import { createInProcessQueue } from '../../src/queue/inprocess-queue';
import { silentLog } from '../../src/log';
import { acquireLease, reconcileOnce, startReconciler } from '../../src/runs/reconciler';
import { startWorker } from '../../src/worker';
import { testDb } from '../helpers/db';
import { ATTEMPTS, BACKOFF_MS, testConfig, testQueuePrefix } from '../queue/harness';
import { KIND, SCORES, createLab, createRun, waitForStatus } from './fixtures';

let db: Db;

beforeAll(() => {
  db = testDb();
});
afterAll(async () => {
  await db.$disconnect();
});

it('re-enqueues QUEUED runs after the BullMQ queue was obliterated, at start and on its interval', async () => {
  const labId = await createLab(db);
  const prefix = testQueuePrefix();
  const producer = createBullmqQueue({ redisUrl: process.env.TEST_REDIS_URL!, prefix, attempts: ATTEMPTS, backoffMs: BACKOFF_MS });
  const worker = await startWorker({
    config: testConfig(prefix),
    handlers: { [KIND]: async () => ({ scores: SCORES }) },
    db,
    store: {} as never,
    reconcile: false,
    log: silentLog,
  });
  const reconciler = { current: undefined as ReturnType<typeof startReconciler> | undefined };
  try {
    // No worker consumes yet: pause every worker so the jobs stay in Redis until it is wiped.
    await Promise.all(worker.consumers.workers.map((w) => w.pause()));
    const a = await createRun(db, labId);
    const b = await createRun(db, labId);
    await producer.enqueue({ runId: a.id, kind: KIND });
    await producer.enqueue({ runId: b.id, kind: KIND });
    await producer.queue(KIND).obliterate({ force: true });
    expect(await producer.has(a.id, KIND)).toBe(false);
    worker.consumers.workers.forEach((w) => w.resume());

    reconciler.current = startReconciler({ db, queue: producer, intervalMs: 300, where: { labId } });
    const first = await reconciler.current.first;
    expect(first.requeued.map((j) => j.runId).sort()).toEqual([a.id, b.id].sort());
    await waitForStatus(db, a.id, 'SUCCEEDED');
    await waitForStatus(db, b.id, 'SUCCEEDED');
    expect(await db.score.count({ where: { runId: a.id } })).toBe(SCORES.length);

    // A run whose enqueue never happened (API crashed between INSERT and add): the next pass.
    const c = await createRun(db, labId);
    await waitForStatus(db, c.id, 'SUCCEEDED', 10_000);
  } finally {
    await reconciler.current?.stop();
    await worker.close();
    await producer.close();
  }
});

it('fails a RUNNING run the queue gave up on, and cancels runs whose cancel nobody can honour', async () => {
  const labId = await createLab(db);
  const queue = createInProcessQueue({
    execute: async () => {
      throw new Error('worker crashed');
    },
    concurrency: 1,
    attempts: 1,
  });
  try {
    const crashed = await createRun(db, labId, { status: 'RUNNING' });
    await queue.enqueue({ runId: crashed.id, kind: KIND });
    const deadline = Date.now() + 5000;
    while ((await queue.status(crashed.id)).state !== 'failed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

    const queued = await db.run.update({ where: { id: (await createRun(db, labId)).id }, data: { cancelRequested: true } });
    const running = await db.run.update({
      where: { id: (await createRun(db, labId, { status: 'RUNNING' })).id },
      data: { cancelRequested: true },
    });

    const report = await reconcileOnce({ db, queue, where: { labId } });
    expect(report.failed).toEqual([crashed.id]);
    expect(report.cancelled.sort()).toEqual([queued.id, running.id].sort());
    expect(report.requeued).toEqual([]);
    const failed = await db.run.findUniqueOrThrow({ where: { id: crashed.id } });
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('worker crashed') });
    for (const id of [queued.id, running.id]) expect((await db.run.findUniqueOrThrow({ where: { id } })).status).toBe('CANCELLED');
  } finally {
    await queue.close();
  }
});

describe('queue namespaces', () => {
  it('re-enqueues only the runs submitted to its own namespace', async () => {
    const labId = await createLab(db);
    const [mine, other] = [testQueuePrefix(), testQueuePrefix()];
    const a = await db.run.update({ where: { id: (await createRun(db, labId)).id }, data: { queuePrefix: mine } });
    const b = await db.run.update({ where: { id: (await createRun(db, labId)).id }, data: { queuePrefix: other } });
    const queue = createBullmqQueue({ redisUrl: process.env.TEST_REDIS_URL!, prefix: mine, attempts: ATTEMPTS });
    try {
      const report = await reconcileOnce({ db, queue, namespace: mine, where: { labId } });
      expect(report.requeued.map((j) => j.runId)).toEqual([a.id]);
      expect(await queue.has(b.id, KIND)).toBe(false);
    } finally {
      await queue.close();
    }
  });

  it('lets one reconciler of a namespace act at a time, through an expiring lease in PostgreSQL', async () => {
    const labId = await createLab(db);
    const namespace = testQueuePrefix();
    const run = await db.run.update({ where: { id: (await createRun(db, labId)).id }, data: { queuePrefix: namespace } });
    const queue = createBullmqQueue({ redisUrl: process.env.TEST_REDIS_URL!, prefix: namespace, attempts: ATTEMPTS });
    const first = startReconciler({ db, queue, namespace, holder: 'first', intervalMs: 60_000, where: { labId } });
    const second = startReconciler({ db, queue, namespace, holder: 'second', intervalMs: 60_000, where: { labId } });
    try {
      const [r1, r2] = await Promise.all([first.first, second.first]);
      const acted = [r1, r2].filter((r) => !r.leaseHeldBy);
      expect(acted).toHaveLength(1);
      expect(acted[0].requeued.map((j) => j.runId)).toEqual([run.id]);
      const [winner, loser] = r1.leaseHeldBy ? [second, first] : [first, second];
      expect((r1.leaseHeldBy ? r1 : r2).leaseHeldBy).toBe(r1.leaseHeldBy ? 'second' : 'first');
      // The holder renews; the other keeps out while the lease lasts...
      expect((await winner.runOnce()).leaseHeldBy).toBeUndefined();
      expect((await loser.runOnce()).leaseHeldBy).toBeDefined();
      // ... and takes over once the holder stops (its lease is released).
      await winner.stop();
      expect((await loser.runOnce()).leaseHeldBy).toBeUndefined();
    } finally {
      await first.stop();
      await second.stop();
      await queue.close();
    }
  });

  it('takes over a lease whose holder stopped renewing it once it expires', async () => {
    const namespace = testQueuePrefix();
    expect(await acquireLease(db, namespace, 'dead', 200)).toEqual({ acquired: true, holder: 'dead' });
    expect(await acquireLease(db, namespace, 'alive', 60_000)).toEqual({ acquired: false, holder: 'dead' });
    await new Promise((r) => setTimeout(r, 400));
    expect(await acquireLease(db, namespace, 'alive', 60_000)).toEqual({ acquired: true, holder: 'alive' });
  });

  it('a worker started on another QUEUE_PREFIX touches none of the runs of this one', async () => {
    const labId = await createLab(db);
    const right = testQueuePrefix();
    const stray = testQueuePrefix();
    const queued = await db.run.update({ where: { id: (await createRun(db, labId)).id }, data: { queuePrefix: right } });
    const running = await db.run.update({ where: { id: (await createRun(db, labId, { status: 'RUNNING' })).id }, data: { queuePrefix: right } });
    const cancelling = await db.run.update({ where: { id: (await createRun(db, labId)).id }, data: { queuePrefix: right, cancelRequested: true } });
    const before = await db.run.findMany({ where: { labId }, orderBy: { id: 'asc' } });
    let executed = 0;
    const worker = await startWorker({
      config: testConfig(stray, { RECONCILE_INTERVAL_MS: '200' }),
      handlers: { [KIND]: async () => ((executed += 1), { scores: SCORES }) },
      db,
      store: {} as never,
      log: silentLog,
    });
    try {
      const first = await worker.reconciler!.first;
      expect(first).toMatchObject({ requeued: [], failed: [], cancelled: [] });
      await new Promise((r) => setTimeout(r, 600)); // a few more passes
      expect(await db.run.findMany({ where: { labId }, orderBy: { id: 'asc' } })).toEqual(before);
      for (const r of [queued, running, cancelling]) expect(await worker.queue.status(r.id, KIND)).toEqual({ state: 'missing' });
      expect(executed).toBe(0);
    } finally {
      await worker.close();
    }
  });
});
