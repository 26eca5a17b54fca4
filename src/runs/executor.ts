// Executes one run: the only code that moves a Run through RUNNING to a final state. Both queue
// adapters (BullMQ worker, in-process) call it, so retry, cancel and idempotency rules live here
// once. Everything it writes is conditional on the run still being open, and scores are replaced
// (not appended) in the same transaction that marks SUCCEEDED, so a retried, stalled or duplicated
// job can never leave duplicate scores or overwrite another attempt's final state.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Db } from '../db/client';
import { Prisma, type Run } from '../generated/prisma/client';
import type { ArtifactStore } from '../storage/artifact-store';
import { NpyFormatError, NpzFormatError } from '../storage/errors';
import { CANCEL_REASON, SHUTDOWN_REASON, type ExecuteJob, type ExecuteOutcome, type ExecuteResult } from '../queue/contract';
import { silentLog, type Log } from '../log';
import { codeVersion, localIdentity, type WorkerIdentity } from './provenance';
import { endImportedSet, isFinal, markCancelled, markFailed, markRequeued, markWaiting, type RunErrorInfo } from './transitions';
import {
  RunCancelledError,
  RunInputError,
  RunWaitingError,
  type HandlerRegistry,
  type JobContext,
  type JobResult,
  type ScoreRecord,
} from './types';

export { CANCEL_REASON, SHUTDOWN_REASON, type ExecuteOutcome, type ExecuteResult } from '../queue/contract';

export interface ExecuteOptions {
  db: Db;
  store: ArtifactStore;
  handlers: HandlerRegistry;
  /** Aborted on cancel (reason CANCEL_REASON or anything) or shutdown (reason SHUTDOWN_REASON). */
  signal?: AbortSignal;
  /** 1-based attempt number as the queue counts it. */
  attempt?: number;
  /** The queue's attempt limit: a transient error on the last attempt fails the run. */
  maxAttempts?: number;
  /**
   * Times a run may be taken up again after its worker died (WORKER_CRASH_RETRIES, default 5). A
   * delivery that finds the run still RUNNING counts one; crashes never use up maxAttempts.
   */
  crashRetries?: number;
  identity?: WorkerIdentity;
  /** Minimum time between progress writes to PostgreSQL (handlers may report very often). */
  progressIntervalMs?: number;
  /**
   * The longest the event loop was held during a job is measured and logged with its outcome;
   * above this it is logged as a warning (the worker passes a quarter of its lock duration).
   */
  blockWarnMs?: number;
  log?: Log;
}

/**
 * Runs the handler for `runId`. Returns the outcome; throws only for transient failures the queue
 * should retry (after marking the run FAILED when no attempt is left, so the row never stays open).
 */
export async function executeRun(runId: string, options: ExecuteOptions): Promise<ExecuteResult> {
  const { db, handlers } = options;
  const log = options.log ?? silentLog;
  const attempt = options.attempt ?? 1;
  const maxAttempts = options.maxAttempts ?? 1;
  const signal = options.signal ?? new AbortController().signal;

  const run = await db.run.findUnique({ where: { id: runId } });
  if (!run) {
    log('warn', 'run not found; dropping its job', { runId });
    return { outcome: 'SKIPPED' };
  }
  if (isFinal(run.status)) return { outcome: 'SKIPPED' };
  if (run.cancelRequested) return (await markCancelled(db, runId)) ? { outcome: 'CANCELLED' } : { outcome: 'SKIPPED' };

  const identity = options.identity ?? localIdentity();
  const startedAt = new Date();
  const provenance: Record<string, unknown> = {
    ...asObject(run.provenance),
    codeVersion: codeVersion(),
    node: process.version,
    worker: identity,
    attempt,
    timings: { createdAt: run.createdAt.toISOString(), startedAt: startedAt.toISOString() },
  };

  const handler = handlers[run.kind];
  if (!handler) {
    const error: RunErrorInfo = {
      code: 'NO_HANDLER',
      message: `This worker (version ${codeVersion()} on ${identity.host}) has no handler for ${run.kind} runs`,
      details: { kind: run.kind },
    };
    await markFailed(db, runId, error, { provenance });
    return { outcome: 'FAILED', error };
  }

  // Still RUNNING: the delivery that started it never ended (its worker was killed, or lost its
  // lock and was declared dead). That is a crash, counted apart from the run's own failures.
  const crashRetries = options.crashRetries ?? 5;
  const afterCrash = run.status === 'RUNNING';
  const crashes = run.workerCrashes + (afterCrash ? 1 : 0);
  if (afterCrash) provenance.workerCrashes = crashes;
  // Conditional: a cancel or another worker's final write since our read wins (and a crash is
  // counted once even when two deliveries race).
  const started = await db.run.updateMany({
    where: { id: runId, status: run.status, workerCrashes: run.workerCrashes, cancelRequested: false },
    data: {
      status: 'RUNNING',
      startedAt: run.startedAt ?? startedAt,
      attempts: { increment: 1 },
      workerCrashes: crashes,
      progress: 0,
      progressMessage: afterCrash
        ? `Taken up again after its worker stopped (${crashes} of ${crashRetries} allowed)`
        : attempt > 1
          ? `Started (attempt ${attempt})`
          : 'Started',
      error: Prisma.DbNull,
      provenance: provenance as Prisma.InputJsonObject,
    },
  });
  if (started.count === 0) {
    const now = await db.run.findUnique({ where: { id: runId }, select: { status: true, cancelRequested: true } });
    if (now && !isFinal(now.status) && now.cancelRequested && (await markCancelled(db, runId))) return { outcome: 'CANCELLED' };
    return { outcome: 'SKIPPED' };
  }
  if (crashes > crashRetries) {
    log('error', 'run lost its worker too often; failing it', { runId, workerCrashes: crashes, crashRetries });
    const error: RunErrorInfo = {
      code: 'INTERNAL',
      message:
        `The worker executing this run stopped ${crashes} times (killed, out of memory or host lost); ` +
        `WORKER_CRASH_RETRIES allows ${crashRetries}. Check the workers' logs and memory for this run's size.`,
      details: { workerCrashes: crashes, crashRetries },
    };
    await markFailed(db, runId, error, { provenance });
    return { outcome: 'FAILED', error };
  }
  if (afterCrash) log('warn', 'run taken up again after its worker stopped', { runId, workerCrashes: crashes, crashRetries });
  const running = (await db.run.findUniqueOrThrow({ where: { id: runId } })) as Run;

  const recorded: Record<string, unknown> = {};
  const finalProvenance = () => ({
    ...provenance,
    ...recorded,
    timings: { ...(provenance.timings as object), finishedAt: new Date().toISOString(), runMs: Date.now() - startedAt.getTime() },
  });
  const ctx: JobContext = {
    run: running,
    params: asObject(running.params),
    db,
    store: options.store,
    signal,
    attempt,
    progress: progressReporter(db, runId, signal, options.progressIntervalMs ?? 500),
    recordProvenance: (entries) => Object.assign(recorded, entries),
  };

  // The longest stretch the event loop was held while this job ran (timers, lock renewal and
  // progress writes wait that long): recorded in provenance and logged with the outcome.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const maxBlockMs = () => Math.round(loopDelay.max / 1e6);
  let outcome: ExecuteOutcome | 'RETRY' = 'RETRY';
  try {
    const result: JobResult = (await handler(ctx)) ?? {};
    recorded.eventLoop = { maxBlockMs: maxBlockMs() };
    // Commit failures (a deadlock, the database restarting) are retried like handler failures.
    const committed = await commitSuccess(db, running, result, finalProvenance());
    outcome = committed.outcome;
    return committed;
  } catch (err) {
    recorded.eventLoop = { maxBlockMs: maxBlockMs() };
    const failed = await handleFailure(err, { db, runId, signal, attempt, maxAttempts, log, provenance: finalProvenance() });
    outcome = failed.outcome;
    return failed;
  } finally {
    loopDelay.disable();
    const blocked = maxBlockMs();
    const level = options.blockWarnMs !== undefined && blocked > options.blockWarnMs ? 'warn' : 'info';
    log(level, 'run attempt ended', { runId, kind: run.kind, attempt, outcome, maxEventLoopBlockMs: blocked, runMs: Date.now() - startedAt.getTime() });
  }
}

/** progress(): throttled writes, each one also a cancel check (the update matches only open, un-cancelled runs). */
function progressReporter(db: Db, runId: string, signal: AbortSignal, intervalMs: number) {
  let lastWrite = 0;
  return async (fraction: number, message: string): Promise<void> => {
    if (signal.aborted) throw new RunCancelledError();
    const now = Date.now();
    const value = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
    if (now - lastWrite < intervalMs && value < 1) return;
    lastWrite = now;
    const { count } = await db.run.updateMany({
      where: { id: runId, status: 'RUNNING', cancelRequested: false },
      data: { progress: value, progressMessage: String(message).slice(0, 500) },
    });
    if (count === 0) throw new RunCancelledError();
  };
}

interface FailureContext {
  db: Db;
  runId: string;
  signal: AbortSignal;
  attempt: number;
  maxAttempts: number;
  log: Log;
  provenance: Record<string, unknown>;
}

async function handleFailure(err: unknown, f: FailureContext): Promise<ExecuteResult> {
  const { db, runId, signal, log, provenance } = f;
  if (signal.aborted && signal.reason === SHUTDOWN_REASON) {
    await markRequeued(db, runId, 'Waiting for a worker (the previous one shut down)', { provenance });
    return { outcome: 'RELEASED' };
  }
  if (err instanceof RunCancelledError || signal.aborted) {
    // RunCancelledError also comes from a progress write that matched nothing: either a cancel or
    // another actor already finished the run; markCancelled only changes a still-open run.
    return (await markCancelled(db, runId, { provenance })) ? { outcome: 'CANCELLED' } : { outcome: 'SKIPPED' };
  }
  if (err instanceof RunWaitingError) {
    if (await markWaiting(db, runId, err.progress, err.message, { provenance })) return { outcome: 'WAITING', retryAfterMs: err.retryAfterMs };
    // Not parked: a cancel arrived meanwhile (finalise it now) or another actor ended the run.
    return (await markCancelled(db, runId, { provenance })) ? { outcome: 'CANCELLED' } : { outcome: 'SKIPPED' };
  }
  // A malformed stored array or archive fails the same way on every attempt: it is bad input.
  if (err instanceof RunInputError || err instanceof NpyFormatError || err instanceof NpzFormatError) {
    const error: RunErrorInfo = { code: 'BAD_INPUT', message: err.message, details: err instanceof RunInputError ? err.details : {} };
    await markFailed(db, runId, error, { provenance });
    return { outcome: 'FAILED', error };
  }
  const message = err instanceof Error ? err.message : String(err);
  log('warn', 'run attempt failed', { runId, attempt: f.attempt, maxAttempts: f.maxAttempts, error: message, stack: (err as Error)?.stack });
  if (f.attempt >= f.maxAttempts) {
    const error: RunErrorInfo = {
      code: 'INTERNAL',
      message: `${message} (after ${f.attempt} attempt${f.attempt === 1 ? '' : 's'})`,
      details: { name: (err as Error)?.name ?? 'Error', attempts: f.attempt },
    };
    await markFailed(db, runId, error, { provenance });
  } else {
    await markRequeued(db, runId, `Attempt ${f.attempt} failed (${message}); retrying`, { provenance });
  }
  throw err;
}

/**
 * One transaction: lock the run row (serialises concurrent finishers), replace scores, run the
 * handler's domain writes, mark SUCCEEDED. A cancel that arrived while computing still wins.
 */
async function commitSuccess(db: Db, run: Run, result: JobResult, provenance: Record<string, unknown>): Promise<ExecuteResult> {
  const scores = (result.scores ?? []).map((s) => scoreRow(run, s));
  const keys = new Set(scores.map((s) => `${s.metric}\u0000${s.scope}`));
  if (keys.size !== scores.length)
    throw new Error(`The ${run.kind} handler returned two scores with the same metric and scope; (metric, scope) must be unique per run`);
  return db.$transaction(
    async (tx): Promise<ExecuteResult> => {
      const [row] = await tx.$queryRaw<{ status: string; cancelRequested: boolean }[]>`
        SELECT status::text AS status, "cancelRequested" FROM "Run" WHERE id = ${run.id}::uuid FOR UPDATE`;
      if (!row || row.status !== 'RUNNING') return { outcome: 'SKIPPED' };
      if (row.cancelRequested) {
        await tx.run.update({
          where: { id: run.id },
          data: { status: 'CANCELLED', finishedAt: new Date(), progressMessage: 'Cancelled', provenance: provenance as Prisma.InputJsonObject },
        });
        await endImportedSet(tx, run.id, `its import run ${run.id} was cancelled`);
        return { outcome: 'CANCELLED' };
      }
      await tx.score.deleteMany({ where: { runId: run.id } });
      if (scores.length) await tx.score.createMany({ data: scores });
      if (result.commit) await result.commit(tx);
      await tx.run.update({
        where: { id: run.id },
        data: {
          status: 'SUCCEEDED',
          progress: 1,
          progressMessage: 'Done',
          finishedAt: new Date(),
          error: Prisma.DbNull,
          outputs: (result.outputs ?? {}) as Prisma.InputJsonObject,
          provenance: provenance as Prisma.InputJsonObject,
        },
      });
      return { outcome: 'SUCCEEDED' };
    },
    // Handlers' commit() may write many rows; the default 5 s interactive timeout is too tight.
    { maxWait: 10_000, timeout: 120_000 },
  );
}

function scoreRow(run: Run, s: ScoreRecord): Prisma.ScoreCreateManyInput {
  return {
    runId: run.id,
    benchmarkId: s.benchmarkId ?? run.benchmarkId,
    metric: s.metric,
    scope: s.scope ?? '',
    roiId: s.roiId ?? null,
    value: s.value,
    ciLow: s.ciLow ?? null,
    ciHigh: s.ciHigh ?? null,
    normalized: s.normalized ?? null,
    n: s.n ?? null,
    extra: (s.extra ?? {}) as Prisma.InputJsonObject,
  };
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
}

/** Binds the executor to its dependencies, in the shape both queue adapters consume. */
export function runExecutor(deps: Omit<ExecuteOptions, 'signal' | 'attempt' | 'maxAttempts'>): ExecuteJob {
  return (job, { signal, attempt, maxAttempts }) => executeRun(job.runId, { ...deps, signal, attempt, maxAttempts });
}
