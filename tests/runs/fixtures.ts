// Shared by the run and queue tests and by the worker child process: Run rows inserted with
// Prisma directly, polling helpers, and small scripted handlers.
import type { Db } from '../../src/db/client';
import type { Run, RunKind, RunStatus } from '../../src/generated/prisma/client';
import type { JobContext, JobHandler, JobResult, ScoreRecord } from '../../src/runs/types';
import { uniqueName } from '../helpers/db';

export const KIND = 'ENCODING_RIDGE' satisfies RunKind;

export async function createLab(db: Db): Promise<string> {
  return (await db.lab.create({ data: { name: uniqueName('lab') } })).id;
}

export async function createRun(
  db: Db,
  labId: string,
  data: { kind?: RunKind; status?: RunStatus; params?: Record<string, unknown> } = {},
): Promise<Run> {
  return db.run.create({
    data: { labId, kind: data.kind ?? KIND, status: data.status ?? 'QUEUED', params: (data.params ?? { alpha: 1 }) as object },
  });
}

/** Polls until `check` returns something other than undefined. */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function waitForRun(db: Db, runId: string, predicate: (run: Run) => boolean, what: string, timeoutMs?: number): Promise<Run> {
  return waitFor(async () => {
    const run = await db.run.findUnique({ where: { id: runId } });
    return run && predicate(run) ? run : undefined;
  }, what, timeoutMs);
}

export const waitForStatus = (db: Db, runId: string, status: RunStatus, timeoutMs?: number) =>
  waitForRun(db, runId, (r) => r.status === status, `run ${runId} to be ${status}`, timeoutMs);

export const SCORES: ScoreRecord[] = [
  { metric: 'pearson_r', scope: '', value: 0.42, n: 100 },
  { metric: 'pearson_r', scope: 'roi:FFA', value: 0.61, ciLow: 0.5, ciHigh: 0.7 },
];

/** A promise the test resolves by hand (to hold a handler at a known point). */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * A handler that reports progress in `steps` steps of `stepMs`, stopping at the first progress
 * call after a cancel (progress throws RunCancelledError), then returns SCORES.
 */
export function slowHandler(steps: number, stepMs: number, onStep?: (ctx: JobContext, i: number) => void): JobHandler {
  return async (ctx): Promise<JobResult> => {
    for (let i = 0; i < steps; i++) {
      onStep?.(ctx, i);
      await ctx.progress(i / steps, `step ${i + 1} of ${steps}`);
      await sleep(stepMs);
    }
    ctx.recordProvenance({ executionProvider: 'cpu', pid: process.pid });
    return { scores: SCORES, outputs: { r: 'artifact-placeholder' } };
  };
}
