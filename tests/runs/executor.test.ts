// executeRun on its own (no queue): state transitions, idempotency, cancel and retry decisions.
import type { Db } from '../../src/db/client';
import { CANCEL_REASON, SHUTDOWN_REASON, executeRun, type ExecuteOptions } from '../../src/runs/executor';
import { RunInputError, type HandlerRegistry, type JobHandler } from '../../src/runs/types';
import { testDb } from '../helpers/db';
import { KIND, SCORES, createLab, createRun, sleep } from './fixtures';

let db: Db;
let labId: string;
const store = {} as never;

beforeAll(async () => {
  db = testDb();
  labId = await createLab(db);
});
afterAll(async () => {
  await db.$disconnect();
});

const options = (handler: JobHandler | undefined, extra: Partial<ExecuteOptions> = {}): ExecuteOptions => ({
  db,
  store,
  handlers: (handler ? { [KIND]: handler } : {}) as HandlerRegistry,
  progressIntervalMs: 0,
  ...extra,
});
const reload = (id: string) => db.run.findUniqueOrThrow({ where: { id } });

describe('executeRun', () => {
  it('counts a delivery that finds its run still RUNNING as a worker crash, apart from attempts, and fails only past WORKER_CRASH_RETRIES', async () => {
    const run = await createRun(db, labId, { status: 'RUNNING' });
    const handler: JobHandler = async () => ({ scores: SCORES });
    // Two crashes already recorded, the third now: within a limit of 3, taken up and finished.
    await db.run.update({ where: { id: run.id }, data: { workerCrashes: 2 } });
    expect((await executeRun(run.id, options(handler, { crashRetries: 3, attempt: 1, maxAttempts: 1 }))).outcome).toBe('SUCCEEDED');
    const done = await reload(run.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', workerCrashes: 3 });
    expect((done.provenance as any).workerCrashes).toBe(3);
    expect(await db.score.count({ where: { runId: run.id } })).toBe(SCORES.length);

    // One more than allowed: failed before the handler runs, saying why and which limit.
    const looping = await createRun(db, labId, { status: 'RUNNING' });
    await db.run.update({ where: { id: looping.id }, data: { workerCrashes: 3 } });
    let ran = false;
    const result = await executeRun(looping.id, options(async () => ((ran = true), {}), { crashRetries: 3 }));
    expect(result.outcome).toBe('FAILED');
    expect(ran).toBe(false);
    const failed = await reload(looping.id);
    expect(failed).toMatchObject({ status: 'FAILED', workerCrashes: 4, error: { code: 'INTERNAL', details: { workerCrashes: 4, crashRetries: 3 } } });
    expect((failed.error as any).message).toContain('WORKER_CRASH_RETRIES allows 3');

    // A QUEUED run (a retry after its own error, or a released one) is no crash.
    const queued = await createRun(db, labId);
    await executeRun(queued.id, options(handler, { crashRetries: 0, attempt: 2, maxAttempts: 3 }));
    expect(await reload(queued.id)).toMatchObject({ status: 'SUCCEEDED', workerCrashes: 0 });
  });

  it('replaces scores left by an earlier attempt instead of adding to them, in the commit transaction', async () => {
    const run = await createRun(db, labId, { status: 'RUNNING' });
    await db.score.createMany({
      data: [
        { runId: run.id, metric: 'pearson_r', scope: '', value: 0.1 },
        { runId: run.id, metric: 'pearson_r', scope: 'stale-scope', value: 0.2 },
      ],
    });
    let sawScoresInTx = -1;
    const result = await executeRun(
      run.id,
      options(async () => ({
        scores: SCORES,
        commit: async (tx) => {
          sawScoresInTx = await tx.score.count({ where: { runId: run.id } });
        },
      })),
    );
    expect(result.outcome).toBe('SUCCEEDED');
    expect(sawScoresInTx).toBe(SCORES.length); // commit() sees the new scores: same transaction
    const scores = await db.score.findMany({ where: { runId: run.id }, orderBy: { scope: 'asc' } });
    expect(scores.map((s) => [s.scope, s.value])).toEqual([
      ['', 0.42],
      ['roi:FFA', 0.61],
    ]);
  });

  it('rolls everything back when commit() fails, and asks for a retry', async () => {
    const run = await createRun(db, labId);
    const handler: JobHandler = async () => ({
      scores: SCORES,
      commit: async () => {
        throw new Error('deadlock detected');
      },
    });
    await expect(executeRun(run.id, options(handler, { attempt: 1, maxAttempts: 2 }))).rejects.toThrow('deadlock detected');
    const after = await reload(run.id);
    expect(after.status).toBe('QUEUED');
    expect(after.progressMessage).toMatch(/Attempt 1 failed \(deadlock detected\); retrying/);
    expect(await db.score.count({ where: { runId: run.id } })).toBe(0);
  });

  it('does nothing for SUCCEEDED, CANCELLED or FAILED runs (duplicate deliveries)', async () => {
    let calls = 0;
    const handler: JobHandler = async () => {
      calls++;
      return {};
    };
    for (const status of ['SUCCEEDED', 'CANCELLED', 'FAILED'] as const) {
      const run = await createRun(db, labId, { status });
      expect((await executeRun(run.id, options(handler))).outcome).toBe('SKIPPED');
      expect((await reload(run.id)).status).toBe(status);
    }
    expect((await executeRun('00000000-0000-4000-8000-000000000000', options(handler))).outcome).toBe('SKIPPED');
    expect(calls).toBe(0);
  });

  it('fails a run whose kind has no handler, with a clear message', async () => {
    const run = await createRun(db, labId, { kind: 'VQA_EVAL' });
    const result = await executeRun(run.id, options(undefined));
    expect(result.outcome).toBe('FAILED');
    const after = await reload(run.id);
    expect(after.status).toBe('FAILED');
    expect(after.error).toMatchObject({ code: 'NO_HANDLER', message: expect.stringContaining('no handler for VQA_EVAL runs') });
  });

  it('records BAD_INPUT with details for a RunInputError', async () => {
    const run = await createRun(db, labId);
    const result = await executeRun(
      run.id,
      options(async () => {
        throw new RunInputError('features contain NaN', { rows: [3, 9] });
      }, { attempt: 1, maxAttempts: 3 }),
    );
    expect(result).toEqual({ outcome: 'FAILED', error: { code: 'BAD_INPUT', message: 'features contain NaN', details: { rows: [3, 9] } } });
    const after = await reload(run.id);
    expect(after.status).toBe('FAILED');
    expect(after.finishedAt).toBeInstanceOf(Date);
  });

  it('marks FAILED (INTERNAL) only on the last attempt, rethrowing either way', async () => {
    const run = await createRun(db, labId);
    const boom: JobHandler = async () => {
      throw new Error('socket hang up');
    };
    await expect(executeRun(run.id, options(boom, { attempt: 1, maxAttempts: 2 }))).rejects.toThrow('socket hang up');
    expect((await reload(run.id)).status).toBe('QUEUED');
    await expect(executeRun(run.id, options(boom, { attempt: 2, maxAttempts: 2 }))).rejects.toThrow('socket hang up');
    const after = await reload(run.id);
    expect(after.status).toBe('FAILED');
    expect(after.attempts).toBe(2);
    expect(after.error).toMatchObject({ code: 'INTERNAL', message: 'socket hang up (after 2 attempts)' });
  });

  it('never starts a run whose cancel was requested before it was picked up', async () => {
    const run = await db.run.update({ where: { id: (await createRun(db, labId)).id }, data: { cancelRequested: true } });
    let calls = 0;
    const result = await executeRun(
      run.id,
      options(async () => {
        calls++;
        return {};
      }),
    );
    expect(result.outcome).toBe('CANCELLED');
    expect(calls).toBe(0);
    expect((await reload(run.id)).status).toBe('CANCELLED');
  });

  it('stops at the next progress() once Run.cancelRequested is set (no signal needed)', async () => {
    const run = await createRun(db, labId);
    let steps = 0;
    const handler: JobHandler = async (ctx) => {
      for (; steps < 1000; steps++) {
        if (steps === 3) await db.run.update({ where: { id: run.id }, data: { cancelRequested: true } });
        await ctx.progress(steps / 1000, 'working');
      }
      return { scores: SCORES };
    };
    expect((await executeRun(run.id, options(handler))).outcome).toBe('CANCELLED');
    expect(steps).toBe(3);
    expect(await db.score.count({ where: { runId: run.id } })).toBe(0);
  });

  it('lets a cancel that lands while the handler finishes win over SUCCEEDED', async () => {
    const run = await createRun(db, labId);
    const handler: JobHandler = async () => {
      await db.run.update({ where: { id: run.id }, data: { cancelRequested: true } });
      return { scores: SCORES };
    };
    expect((await executeRun(run.id, options(handler))).outcome).toBe('CANCELLED');
    expect(await db.score.count({ where: { runId: run.id } })).toBe(0);
  });

  it('CANCELLED on an aborted signal; back to QUEUED (RELEASED) when the worker shuts down', async () => {
    const waitForAbort: JobHandler = async (ctx) => {
      for (;;) {
        await ctx.progress(0.1, 'waiting');
        await sleep(5);
      }
    };
    const cancelled = await createRun(db, labId);
    const c1 = new AbortController();
    setTimeout(() => c1.abort(CANCEL_REASON), 50);
    expect((await executeRun(cancelled.id, options(waitForAbort, { signal: c1.signal }))).outcome).toBe('CANCELLED');
    expect((await reload(cancelled.id)).status).toBe('CANCELLED');

    const released = await createRun(db, labId);
    const c2 = new AbortController();
    setTimeout(() => c2.abort(SHUTDOWN_REASON), 50);
    expect((await executeRun(released.id, options(waitForAbort, { signal: c2.signal }))).outcome).toBe('RELEASED');
    const after = await reload(released.id);
    expect(after.status).toBe('QUEUED');
    expect(after.cancelRequested).toBe(false);
    expect(after.progressMessage).toMatch(/shut down/);
  });

  it('throttles progress writes', async () => {
    const run = await createRun(db, labId);
    let seen: number[] = [];
    const handler: JobHandler = async (ctx) => {
      for (const f of [0.1, 0.2, 0.3]) {
        await ctx.progress(f, `at ${f}`);
        seen.push((await reload(run.id)).progress);
      }
      await ctx.progress(1, 'finishing'); // 1 is always written
      seen.push((await reload(run.id)).progress);
      return {};
    };
    await executeRun(run.id, options(handler, { progressIntervalMs: 60_000 }));
    expect(seen).toEqual([0.1, 0.1, 0.1, 1]);
  });
});
