// Behaviour every JobQueue adapter must show, run against the real PostgreSQL (and Redis for
// BullMQ). Used by bullmq.test.ts and inprocess.test.ts.
import type { Db } from '../../src/db/client';
import { cancelRun } from '../../src/runs/cancel';
import { reconcileOnce } from '../../src/runs/reconciler';
import { RunInputError, RunWaitingError, type JobHandler } from '../../src/runs/types';
import { testDb } from '../helpers/db';
import { KIND, SCORES, createLab, createRun, gate, sleep, slowHandler, waitFor, waitForRun, waitForStatus } from '../runs/fixtures';
import { ATTEMPTS, BACKOFF_MS, type Harness, type MakeHarness } from './harness';

export function describeQueueBehaviour(name: string, makeHarness: MakeHarness): void {
  describe(`${name} queue behaviour`, () => {
    let db: Db;
    let labId: string;
    let h: Harness;

    beforeAll(async () => {
      db = testDb();
      labId = await createLab(db);
    });
    afterAll(async () => {
      await db.$disconnect();
    });
    beforeEach(() => {
      h = makeHarness(db);
    });
    afterEach(async () => {
      await h.stop();
    });

    const enqueue = (runId: string) => h.queue.enqueue({ runId, kind: KIND });

    it('moves a run QUEUED -> RUNNING (progress in the row) -> SUCCEEDED with scores and provenance', async () => {
      const hold = gate();
      await h.start({
        [KIND]: async (ctx) => {
          await ctx.progress(0.5, 'half way');
          await hold.promise;
          ctx.recordProvenance({ executionProvider: 'cpu' });
          return { scores: SCORES, outputs: { r: 'artifact-1' } };
        },
      });
      const run = await createRun(db, labId);
      expect(run.status).toBe('QUEUED');
      await enqueue(run.id);

      const running = await waitForRun(db, run.id, (r) => r.status === 'RUNNING' && r.progress === 0.5, 'progress 0.5');
      expect(running.progressMessage).toBe('half way');
      expect(running.startedAt).toBeInstanceOf(Date);
      hold.open();

      const done = await waitForStatus(db, run.id, 'SUCCEEDED');
      expect(done.progress).toBe(1);
      expect(done.attempts).toBe(1);
      expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
      expect(done.outputs).toEqual({ r: 'artifact-1' });
      expect(done.error).toBeNull();
      const p = done.provenance as Record<string, any>;
      expect(p).toMatchObject({ codeVersion: expect.stringMatching(/^0\.1\.0/), attempt: 1, executionProvider: 'cpu' });
      expect(p.worker).toMatchObject({ host: expect.any(String), pid: process.pid });
      expect(p.timings).toMatchObject({ startedAt: expect.any(String), finishedAt: expect.any(String), runMs: expect.any(Number) });
      const scores = await db.score.findMany({ where: { runId: run.id }, orderBy: { scope: 'asc' } });
      expect(scores.map((s) => [s.metric, s.scope, s.value])).toEqual([
        ['pearson_r', '', 0.42],
        ['pearson_r', 'roi:FFA', 0.61],
      ]);
    });

    it('delivers a run that waits on other runs again later, back in QUEUED, without counting attempts', async () => {
      let calls = 0;
      const waited = gate();
      await h.start({
        [KIND]: async () => {
          calls++;
          if (calls === 1) throw new RunWaitingError('2 of 3 layer fits', 0.3, 300);
          await waited.promise;
          return { scores: SCORES };
        },
      });
      const run = await createRun(db, labId);
      await enqueue(run.id);
      const parked = await waitForRun(db, run.id, (r) => r.status === 'QUEUED' && r.progress === 0.3, 'parked');
      expect(parked).toMatchObject({ attempts: 0, progressMessage: 'Waiting for 2 of 3 layer fits' });
      // Still live in the queue (delayed), so the reconciler leaves it alone.
      expect(await h.queue.has(run.id, KIND)).toBe(true);
      await waitFor(async () => (calls === 2 ? true : undefined), 'second delivery');
      waited.open();
      const done = await waitForStatus(db, run.id, 'SUCCEEDED');
      expect(done.attempts).toBe(1);
    });

    it('fails at once on RunInputError, without retrying', async () => {
      let calls = 0;
      await h.start({
        [KIND]: async () => {
          calls++;
          throw new RunInputError('responses have 3 columns, the ROI needs 5', { expected: 5, got: 3 });
        },
      });
      const run = await createRun(db, labId);
      await enqueue(run.id);
      const failed = await waitForStatus(db, run.id, 'FAILED');
      expect(failed.error).toEqual({ code: 'BAD_INPUT', message: 'responses have 3 columns, the ROI needs 5', details: { expected: 5, got: 3 } });
      await waitFor(async () => ((await h.queue.status(run.id, KIND)).state === 'failed' ? true : undefined), 'job failed in the queue');
      await sleep(BACKOFF_MS * 4); // a retry would have started by now
      expect(calls).toBe(1);
      expect((await db.run.findUniqueOrThrow({ where: { id: run.id } })).attempts).toBe(1);
    });

    it('retries a transient error with exponential backoff, then succeeds', async () => {
      const startedAt: number[] = [];
      await h.start({
        [KIND]: async (ctx) => {
          startedAt.push(Date.now());
          if (startedAt.length < 3) throw new Error(`connection reset (try ${ctx.attempt})`);
          return { scores: SCORES };
        },
      });
      const run = await createRun(db, labId);
      await enqueue(run.id);
      const done = await waitForStatus(db, run.id, 'SUCCEEDED');
      expect(startedAt).toHaveLength(3);
      const gaps = [startedAt[1] - startedAt[0], startedAt[2] - startedAt[1]];
      expect(gaps[0]).toBeGreaterThanOrEqual(BACKOFF_MS * 0.9);
      expect(gaps[1]).toBeGreaterThanOrEqual(BACKOFF_MS * 2 * 0.9);
      expect(done.attempts).toBe(3);
      expect((done.provenance as any).attempt).toBe(3);
      expect(await db.score.count({ where: { runId: run.id } })).toBe(SCORES.length);
    });

    it('fails with INTERNAL once every attempt has failed', async () => {
      let calls = 0;
      await h.start({
        [KIND]: async () => {
          calls++;
          throw new Error('GPU fell off the bus');
        },
      });
      const run = await createRun(db, labId);
      await enqueue(run.id);
      const failed = await waitForStatus(db, run.id, 'FAILED');
      expect(calls).toBe(ATTEMPTS);
      expect(failed.attempts).toBe(ATTEMPTS);
      expect(failed.error).toMatchObject({ code: 'INTERNAL', message: `GPU fell off the bus (after ${ATTEMPTS} attempts)` });
    });

    it('cancels a RUNNING run: the handler stops and the run ends CANCELLED', async () => {
      let steps = 0;
      await h.start({ [KIND]: slowHandler(500, 10, () => steps++) });
      const run = await createRun(db, labId);
      await enqueue(run.id);
      await waitForRun(db, run.id, (r) => r.status === 'RUNNING' && steps > 3, 'the run to be running');
      await cancelRun(db, h.queue, run.id);
      const cancelled = await waitForStatus(db, run.id, 'CANCELLED');
      expect(cancelled.cancelRequested).toBe(true);
      expect(cancelled.finishedAt).toBeInstanceOf(Date);
      const stepsAtCancel = steps;
      await sleep(100);
      expect(steps).toBe(stepsAtCancel);
      expect(steps).toBeLessThan(500);
      expect(await db.score.count({ where: { runId: run.id } })).toBe(0);
    });

    it('cancels a waiting run at once, and it never starts', async () => {
      const hold = gate();
      const started: string[] = [];
      await h.start(
        {
          [KIND]: async (ctx) => {
            started.push(ctx.run.id);
            await hold.promise;
            return { scores: SCORES };
          },
        },
        { concurrency: 1 },
      );
      const first = await createRun(db, labId);
      const second = await createRun(db, labId);
      await enqueue(first.id);
      await waitForStatus(db, first.id, 'RUNNING');
      await enqueue(second.id);
      const after = await cancelRun(db, h.queue, second.id);
      expect(after?.status).toBe('CANCELLED');
      expect(await h.queue.has(second.id, KIND)).toBe(false);
      hold.open();
      await waitForStatus(db, first.id, 'SUCCEEDED');
      await sleep(200);
      expect(started).toEqual([first.id]);
      expect((await db.run.findUniqueOrThrow({ where: { id: second.id } })).status).toBe('CANCELLED');
    });

    it('treats enqueueing a run twice, or re-delivering a finished one, as a no-op', async () => {
      let calls = 0;
      const handler: JobHandler = async () => {
        calls++;
        await sleep(50);
        return { scores: SCORES };
      };
      await h.start({ [KIND]: handler });
      const run = await createRun(db, labId);
      await Promise.all([enqueue(run.id), enqueue(run.id), enqueue(run.id)]);
      await waitForStatus(db, run.id, 'SUCCEEDED');
      // A duplicate delivery after success (e.g. the reconciler racing the finish) must not redo work.
      await h.queue.enqueue({ runId: run.id, kind: KIND }, { replaceFinished: true });
      await waitFor(async () => ((await h.queue.status(run.id, KIND)).state === 'completed' ? true : undefined), 'the re-delivery to finish');
      await sleep(100);
      expect(calls).toBe(1);
      expect(await db.score.count({ where: { runId: run.id } })).toBe(SCORES.length);
    });

    it('never runs more jobs at once than its concurrency, across kinds', async () => {
      let running = 0;
      let peak = 0;
      const handler: JobHandler = async (ctx) => {
        running++;
        peak = Math.max(peak, running);
        // Hold until a second job runs too (or give up), then a while longer: a third would show.
        const until = Date.now() + 3000;
        while (running < 2 && Date.now() < until) await sleep(10);
        await sleep(200);
        await ctx.progress(0.9, 'almost');
        running--;
        return { scores: SCORES };
      };
      const kinds = ['ENCODING_RIDGE', 'ENCODING_ICL', 'CAUSAL_TEST'] as const;
      await h.start(Object.fromEntries(kinds.map((k) => [k, handler])), { concurrency: 2 });
      const runs = await Promise.all([...kinds, ...kinds].map((kind) => createRun(db, labId, { kind })));
      await Promise.all(runs.map((run) => h.queue.enqueue({ runId: run.id, kind: run.kind })));
      for (const run of runs) await waitForStatus(db, run.id, 'SUCCEEDED');
      expect(peak).toBe(2);
    });

    it('reconciler: re-enqueues a QUEUED run whose job was lost, and a RUNNING run whose job vanished', async () => {
      const hold = gate();
      await h.start(
        {
          [KIND]: async (ctx) => {
            if (ctx.run.id === blocker.id) await hold.promise;
            return { scores: SCORES };
          },
        },
        { concurrency: 1 },
      );
      // Occupy the only slot so the next job stays waiting, then make the queue lose it.
      const blocker = await createRun(db, labId);
      await enqueue(blocker.id);
      await waitForStatus(db, blocker.id, 'RUNNING');
      const lost = await createRun(db, labId);
      await enqueue(lost.id);
      expect(await h.queue.has(lost.id, KIND)).toBe(true);
      await h.dropJob(lost.id, KIND);
      expect(await h.queue.has(lost.id, KIND)).toBe(false);
      // A run left RUNNING by a worker that died, its job gone with Redis.
      const orphan = await createRun(db, labId, { status: 'RUNNING' });
      hold.open();
      await waitForStatus(db, blocker.id, 'SUCCEEDED');
      expect((await db.run.findUniqueOrThrow({ where: { id: lost.id } })).status).toBe('QUEUED');

      const report = await reconcileOnce({ db, queue: h.queue, where: { labId } });
      expect(report.requeued.map((j) => j.runId).sort()).toEqual([lost.id, orphan.id].sort());
      await waitForStatus(db, lost.id, 'SUCCEEDED');
      await waitForStatus(db, orphan.id, 'SUCCEEDED');
      expect(await db.score.count({ where: { runId: lost.id } })).toBe(SCORES.length);
      // Nothing left to repair: a second pass is a no-op.
      expect((await reconcileOnce({ db, queue: h.queue, where: { labId } })).requeued).toEqual([]);
    });
  });
}
