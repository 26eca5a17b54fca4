// The reconciler keeps "a run never disappears" true when the queue loses jobs.
import type { Db } from '../../src/db/client';
import { createBullmqQueue } from '../../src/queue/bullmq-queue';
import { createInProcessQueue } from '../../src/queue/inprocess-queue';
import { silentLog } from '../../src/log';
import { reconcileOnce, startReconciler } from '../../src/runs/reconciler';
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
