// BullMQ consumers: one Worker per RunKind this process handles, all calling the same executor.
// Also listens on the cancel channel (BullMQ can only abort a job in the process that runs it) and
// maps executor outcomes onto BullMQ's job states.
import { DelayedError, UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import IORedis from 'ioredis';
import { CANCEL_REASON, SHUTDOWN_REASON } from './contract';
import { silentLog, type Log } from '../log';
import type { RunJob } from './contract';
import type { RunKind } from '../generated/prisma/enums';
import { cancelChannel, queueName, redisOptions } from './bullmq-queue';
import type { ExecuteJob } from './job-queue';

/** Called when BullMQ gives up on a job outside the executor (e.g. it stalled too many times). */
export type OnGaveUp = (job: RunJob, reason: string) => Promise<void>;

export interface BullmqWorkerOptions {
  redisUrl: string;
  prefix: string;
  kinds: RunKind[];
  /** Jobs run at once in this process, all kinds together (a GPU's memory is shared by all of them). */
  concurrency: number;
  /**
   * A job's lock lives this long without renewal (renewed every quarter of it, so the event loop
   * may be held up to 3/4 of it without losing the lock); a killed worker's job is moved back to
   * wait by a stall check once its lock expired, so recovery takes about lockDuration +
   * stalledInterval.
   */
  lockDurationMs: number;
  /** How often this process looks for expired locks, on a timer of its own (see startStallCheckers). */
  stalledIntervalMs: number;
  /**
   * Stalls tolerated before BullMQ itself fails the job. The executor counts lost workers in
   * PostgreSQL against WORKER_CRASH_RETRIES first; this is the backstop (default 1).
   */
  maxStalledCount?: number;
  execute: ExecuteJob;
  onGaveUp?: OnGaveUp;
  log?: Log;
}

export interface BullmqWorkers {
  workers: Worker[];
  /**
   * Stops taking jobs and waits for running ones; after graceMs their handlers are aborted with
   * SHUTDOWN_REASON, so the executor hands the runs back to the queue for another worker.
   */
  close(graceMs?: number): Promise<void>;
}

export async function startBullmqWorkers(options: BullmqWorkerOptions): Promise<BullmqWorkers> {
  const log = options.log ?? silentLog;
  const connection = redisOptions(options.redisUrl);
  // ioredis' option type is stricter than BullMQ's structural one; the values are plain ioredis options.
  const bullConnection = connection as ConnectionOptions;
  const workers: Worker[] = [];

  const slots = processSlots(options.concurrency, workers);

  // Three declared parameters matter: BullMQ only creates the AbortSignal for processors whose
  // function length is >= 3.
  const processor = async (job: Job<RunJob>, token: string | undefined, signal: AbortSignal | undefined) => {
    if (!slots.acquire()) return handBack(job, token); // fetched in the instant before the pause
    try {
      const result = await options.execute(job.data, {
        signal: signal ?? new AbortController().signal,
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? 1,
      });
      if (result.outcome === 'FAILED') throw new UnrecoverableError(result.error?.message ?? 'The run failed');
      if (result.outcome === 'RELEASED') return handBack(job, token);
      if (result.outcome === 'WAITING') return deliverLater(job, token, result.retryAfterMs ?? 1000);
      return result.outcome;
    } finally {
      slots.release();
    }
  };

  const maxStalledCount = options.maxStalledCount ?? 1;
  for (const kind of options.kinds) {
    const worker = new Worker<RunJob>(queueName(kind), processor, {
      connection: bullConnection,
      prefix: options.prefix,
      // Each kind may use every slot; processSlots enforces the total.
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      lockRenewTime: Math.max(1, Math.floor(options.lockDurationMs / 4)),
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount,
      // BullMQ stops a Worker's stall check while it is paused, and processSlots pauses every
      // consumer while the process is busy: a dead worker's job would wait for this one to finish.
      // The checks run on their own Workers instead (below), which are never paused.
      skipStalledCheck: true,
    });
    worker.on('error', (err) => log('error', 'queue worker error', { kind, error: err.message }));
    worker.on('failed', (job, err) => {
      if (!job || !options.onGaveUp) return;
      const final = err?.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (final) options.onGaveUp(job.data, err?.message ?? 'failed').catch((e) => log('error', 'could not record a failed job', { runId: job.id, error: (e as Error).message }));
    });
    workers.push(worker);
  }
  const checkers = options.kinds.map((kind) => {
    const checker = new Worker<RunJob>(queueName(kind), undefined, {
      connection: bullConnection,
      prefix: options.prefix,
      autorun: false,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount,
    });
    checker.on('error', (err) => log('error', 'stall check error', { kind, error: err.message }));
    checker.on('stalled', (jobId) => log('warn', 'job stalled (its worker stopped renewing its lock); it is taken up again', { kind, runId: jobId }));
    return checker;
  });
  await Promise.all([...workers, ...checkers].map((w) => w.waitUntilReady()));
  // One Lua script per queue and interval for all workers together (BullMQ skips a check another
  // process made less than an interval ago), independent of what this process is executing.
  await Promise.all(checkers.map((c) => c.startStalledCheckTimer()));

  const subscriber = new IORedis(connection);
  subscriber.on('error', (err) => log('error', 'cancel subscriber error', { error: err.message }));
  subscriber.on('message', (_channel: string, runId: string) => {
    for (const w of workers) if (w.cancelJob(runId, CANCEL_REASON)) log('info', 'cancelling run', { runId });
  });
  await subscriber.subscribe(cancelChannel(options.prefix));

  let closing: Promise<void> | undefined;
  const close = (graceMs = 10_000): Promise<void> => {
    closing ??= (async () => {
      slots.closing = true;
      const timer = setTimeout(() => workers.forEach((w) => w.cancelAllJobs(SHUTDOWN_REASON)), graceMs);
      try {
        await Promise.all(workers.map((w) => w.close()));
      } finally {
        await Promise.all(checkers.map((c) => c.close().catch(() => undefined)));
        clearTimeout(timer);
        await subscriber.quit().catch(() => undefined);
      }
    })();
    return closing;
  };

  return { workers, close };
}

/** Back to the front of the wait list without counting a failed attempt (another worker may take it). */
async function handBack(job: Job<RunJob>, token: string | undefined): Promise<never> {
  if (token) await job.moveToWait(token);
  throw new WaitingError();
}

/** A run waiting on other runs: the job is delayed (not failed, no attempt counted) and delivered again. */
async function deliverLater(job: Job<RunJob>, token: string | undefined, delayMs: number): Promise<never> {
  if (token) await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/**
 * The process-wide job limit over one BullMQ Worker per kind. BullMQ's concurrency is per Worker,
 * so with several kinds a process could otherwise run kinds x concurrency jobs at once. When all
 * slots are taken, every Worker is paused so none fetches (and then sits on) a job an idle host
 * could run; a job fetched in the instant before the pause is handed straight back.
 */
function processSlots(limit: number, workers: Worker[]) {
  let active = 0;
  let paused = false;
  const state = {
    closing: false,
    acquire(): boolean {
      if (active >= limit) return false;
      active++;
      if (active >= limit && workers.length > 1 && !paused) {
        paused = true;
        for (const w of workers) void w.pause(true);
      }
      return true;
    },
    release(): void {
      active--;
      if (paused && active < limit && !state.closing) {
        paused = false;
        for (const w of workers) void w.resume();
      }
    },
  };
  return state;
}
