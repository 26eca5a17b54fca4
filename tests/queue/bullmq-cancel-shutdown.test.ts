// Cancel and graceful shutdown with the worker in another process.
import { cancelRun } from '../../src/runs/cancel';
import { KIND, SCORES, createRun, waitFor, waitForRun, waitForStatus } from '../runs/fixtures';
import { useChildWorkers } from './child-workers';

const w = useChildWorkers();

it('cancels a RUNNING run executing in another process', async () => {
  const worker = await w.start({ STEPS: '400', STEP_MS: '25', WORKER_NAME: 'a' });
  const run = await createRun(w.db, w.labId);
  await w.producer.enqueue({ runId: run.id, kind: KIND });
  await waitForRun(w.db, run.id, (r) => r.status === 'RUNNING' && r.progress > 0, 'the child to run it');

  await cancelRun(w.db, w.producer, run.id);
  const cancelled = await waitForStatus(w.db, run.id, 'CANCELLED', 10_000);
  expect(cancelled.progress).toBeLessThan(0.5);
  expect(cancelled.finishedAt).toBeInstanceOf(Date);
  expect(await w.db.score.count({ where: { runId: run.id } })).toBe(0);
  // The row turns CANCELLED just before BullMQ records the job as completed.
  await waitFor(async () => ((await w.producer.status(run.id, KIND)).state === 'completed' ? true : undefined), 'the job to complete');
  expect(worker.proc.exitCode).toBeNull(); // the worker stopped the job, not itself
});

it('hands the job back on SIGTERM (graceful shutdown) so another worker completes it', async () => {
  const first = await w.start({ STEPS: '200', STEP_MS: '25', GRACE_MS: '200', WORKER_NAME: 'first' });
  const run = await createRun(w.db, w.labId);
  await w.producer.enqueue({ runId: run.id, kind: KIND });
  await waitForRun(w.db, run.id, (r) => r.status === 'RUNNING' && r.progress > 0, 'progress on the first worker');
  first.proc.kill('SIGTERM');
  expect(await first.exited).toBe(0);

  const released = await w.db.run.findUniqueOrThrow({ where: { id: run.id } });
  expect(released.status).toBe('QUEUED');
  expect((await w.producer.status(run.id, KIND)).state).toBe('waiting'); // not failed, no attempt used

  await w.start({ STEPS: '5', STEP_MS: '10', WORKER_NAME: 'second' });
  const done = await waitForStatus(w.db, run.id, 'SUCCEEDED', 30_000);
  expect(done.attempts).toBe(2);
  expect((done.provenance as any).attempt).toBe(1);
  expect(await w.db.score.count({ where: { runId: run.id } })).toBe(SCORES.length);
});
