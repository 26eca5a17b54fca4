// Workers that die mid-job (SIGKILL): BullMQ's stalled check hands the job to another worker, and
// gives up (run FAILED) when a job keeps killing its workers.
import { silentLog } from '../../src/log';
import { startWorker } from '../../src/worker';
import { KIND, SCORES, createRun, slowHandler, waitFor, waitForRun, waitForStatus } from '../runs/fixtures';
import { FAST_STALL, useChildWorkers } from './child-workers';
import { testConfig } from './harness';

const w = useChildWorkers();

it('finishes a run whose worker was killed (SIGKILL) mid-job on another worker, without duplicate scores', async () => {
  const first = await w.start({ STEPS: '25', STEP_MS: '100', WORKER_NAME: 'first', ...FAST_STALL });
  const run = await createRun(w.db, w.labId);
  await w.producer.enqueue({ runId: run.id, kind: KIND });
  await waitForRun(w.db, run.id, (r) => r.status === 'RUNNING' && r.progress >= 0.2, 'progress on the first worker');
  first.proc.kill('SIGKILL');
  await first.exited;

  // The job's lock expires (LOCK_DURATION_MS) and the second worker's stall check moves it back
  // to wait.
  const second = await w.start({ STEPS: '10', STEP_MS: '20', WORKER_NAME: 'second', ...FAST_STALL });
  const done = await waitForStatus(w.db, run.id, 'SUCCEEDED', 30_000);
  expect(done.attempts).toBeGreaterThanOrEqual(2); // more if a loaded machine also lost a lock
  expect(done.progress).toBe(1);
  expect((done.provenance as any).worker).toMatchObject({ pid: second.pid, workerId: 'second' });
  const scores = await w.db.score.findMany({ where: { runId: run.id } });
  expect(scores).toHaveLength(SCORES.length);
  expect(new Set(scores.map((s) => `${s.metric}|${s.scope}`)).size).toBe(SCORES.length);
});

it('fails a run (INTERNAL) whose job stalled more often than allowed, instead of retrying it forever', async () => {
  const first = await w.start({ STEPS: '100', STEP_MS: '50', MAX_STALLED_COUNT: '0', WORKER_NAME: 'first', ...FAST_STALL });
  const run = await createRun(w.db, w.labId);
  await w.producer.enqueue({ runId: run.id, kind: KIND });
  await waitForRun(w.db, run.id, (r) => r.status === 'RUNNING' && r.progress > 0, 'progress on the first worker');
  first.proc.kill('SIGKILL');
  await first.exited;

  await w.start({ STEPS: '5', STEP_MS: '10', MAX_STALLED_COUNT: '0', WORKER_NAME: 'second', ...FAST_STALL });
  const failed = await waitForStatus(w.db, run.id, 'FAILED', 30_000);
  expect(failed.error).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('stalled more than allowable limit') });
  expect(failed.attempts).toBe(1); // the second worker never ran the handler
  expect(await w.db.score.count({ where: { runId: run.id } })).toBe(0);
});

it("moves a dead worker's job back to wait while every live worker is busy: stall checks do not pause with the work", async () => {
  const victim = await w.start({ STEPS: '400', STEP_MS: '50', WORKER_NAME: 'victim', ...FAST_STALL });
  const dead = await createRun(w.db, w.labId);
  await w.producer.enqueue({ runId: dead.id, kind: KIND });
  await waitForRun(w.db, dead.id, (r) => r.status === 'RUNNING' && (r.provenance as any).worker?.workerId === 'victim', 'the victim to take its run');
  // A worker of two kinds with one slot: busy, it pauses its BullMQ consumers (which used to stop their stall checks too).
  const busy = await startWorker({
    config: testConfig(w.prefix, { ...FAST_STALL, WORKER_CONCURRENCY: '1' }),
    handlers: { [KIND]: slowHandler(400, 50), IMPORT_FEATURES: slowHandler(1, 1) },
    db: w.db,
    store: {} as never,
    reconcile: false,
    shutdownGraceMs: 200,
    workerId: 'busy',
    log: silentLog,
  });
  try {
    const long = await createRun(w.db, w.labId);
    await w.producer.enqueue({ runId: long.id, kind: KIND });
    await waitForRun(w.db, long.id, (r) => r.status === 'RUNNING' && (r.provenance as any).worker?.workerId === 'busy', 'the busy worker to take its run');
    victim.proc.kill('SIGKILL');
    await victim.exited;
    // Lock (3 s) expired, then a stall check (every 1 s) found it, all while the busy worker computes.
    await waitFor(async () => ((await w.producer.status(dead.id, KIND)).state === 'waiting' ? true : undefined), "the dead worker's job back in wait", 15_000, 100);
    expect((await w.db.run.findUniqueOrThrow({ where: { id: long.id } })).status).toBe('RUNNING');
  } finally {
    await busy.close();
  }
});
