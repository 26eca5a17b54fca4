// The worker process (production profile; one or more per GPU host): pulls runs from the BullMQ
// queues of the kinds it has handlers for, executes them, and keeps the queue consistent with
// PostgreSQL through the reconciler. It never serves HTTP.
//
//   BRAINALIGN_PROFILE=production DATABASE_URL=... REDIS_URL=... ... npx tsx src/worker.ts
//
import { configureSharedEngine, defaultOnnxThreads } from './compute/engine-instance';
import { checkJobRegistry, handlers as defaultHandlers } from './jobs/registry';
import { ConfigError, loadConfig, type Config } from './config';
import { createDb, type Db } from './db/client';
import { createBullmqQueue, type BullmqJobQueue } from './queue/bullmq-queue';
import { startBullmqWorkers, type BullmqWorkers } from './queue/bullmq-worker';
import { RUN_KINDS } from './queue/job-queue';
import { runExecutor } from './runs/executor';
import { jsonLog, withRepeatsSuppressed, type Log } from './log';
import { watchRedis } from './queue/redis-watch';
import { localIdentity } from './runs/provenance';
import { startReconciler, type Reconciler } from './runs/reconciler';
import { markFailed } from './runs/transitions';
import type { HandlerRegistry, RunKind } from './runs/types';
import { createArtifactStore, type ArtifactStore } from './storage';

export interface StartWorkerOptions {
  /** Defaults to loadConfig() (environment variables). */
  config?: Config;
  /** Defaults to the registry in src/jobs/registry.ts. */
  handlers?: HandlerRegistry;
  /** Given ones are left open by close(); created ones are closed. */
  db?: Db;
  store?: ArtifactStore;
  /** Restricts the kinds consumed (e.g. CPU-only hosts take imports only). Default: every kind with a handler. */
  kinds?: RunKind[];
  /**
   * Run the reconciler here (default true). It examines only the runs submitted to this worker's
   * QUEUE_PREFIX, and of all reconcilers of that namespace only the lease holder acts.
   */
  reconcile?: boolean;
  /** First retry delay of jobs this worker (re-)enqueues; doubles per attempt. Default 10 s. */
  backoffMs?: number;
  /** How long close() lets running jobs finish before handing them back to the queue. Default 10 s. */
  shutdownGraceMs?: number;
  /**
   * Stalls (worker died mid-job) BullMQ tolerates per job before it fails it. Default
   * WORKER_CRASH_RETRIES + 1: the executor's count in PostgreSQL decides first, with a clear message.
   */
  maxStalledCount?: number;
  /** Distinguishes several workers on one host in run provenance. */
  workerId?: string;
  log?: Log;
}

export interface RunningWorker {
  kinds: RunKind[];
  /** The producer side, on the same Redis prefix (tests enqueue through it). */
  queue: BullmqJobQueue;
  consumers: BullmqWorkers;
  reconciler?: Reconciler;
  /** Resolves once Redis has been unreachable for WORKER_REDIS_TIMEOUT_MS (main() then exits 1). */
  redisLost: Promise<Error>;
  /** Graceful stop: finish (or, after the grace period, release) current jobs, close connections. */
  close(): Promise<void>;
}

/** Redis stayed unreachable for WORKER_REDIS_TIMEOUT_MS while the worker started. */
export class RedisUnreachableError extends Error {}

export async function startWorker(options: StartWorkerOptions = {}): Promise<RunningWorker> {
  const config = options.config ?? loadConfig();
  configureSharedEngine(config.executionProvider, config.onnxThreads || defaultOnnxThreads(config.workerConcurrency));
  // Every Redis client logs each failed reconnect; one line per distinct error and 30 s is enough.
  const log = withRepeatsSuppressed(options.log ?? jsonLog(config.logLevel, { component: 'worker' }));
  if (!config.redisUrl) throw new ConfigError('Invalid configuration:\n  REDIS_URL: required to run a worker (got unset)');
  if (!options.db && !config.databaseUrl)
    throw new ConfigError('Invalid configuration:\n  DATABASE_URL: required to run a worker (got unset)');

  const ownDb = !options.db;
  const db = options.db ?? createDb(config.databaseUrl!, { poolSize: Math.max(4, config.workerConcurrency + 2) });
  // The artifact store for this profile (S3/MinIO in production) from src/storage.
  const store = options.store ?? createArtifactStore(config);
  // A kind without a job module stops the worker here, not its first run of that kind.
  checkJobRegistry();
  const handlers = options.handlers ?? defaultHandlers;
  const unknown = (config.workerKinds ?? []).filter((k) => !RUN_KINDS.includes(k as RunKind));
  if (unknown.length) throw new ConfigError(`Invalid configuration:\n  WORKER_KINDS: unknown run kinds ${unknown.join(', ')} (expected some of ${RUN_KINDS.join(', ')})`);
  const kinds = (options.kinds ?? (config.workerKinds as RunKind[] | undefined) ?? RUN_KINDS).filter((k) => handlers[k]);
  if (kinds.length === 0) log('warn', 'no job handlers registered: this worker will not take any run');

  const identity = localIdentity(options.workerId);
  // Start-up waits for Redis, but not forever: unreachable for WORKER_REDIS_TIMEOUT_MS, it gives up.
  const redis = watchRedis({ url: config.redisUrl, timeoutMs: config.workerRedisTimeoutMs, log });
  const giveUp = async (err: Error): Promise<never> => {
    await redis.stop();
    if (ownDb) await db.$disconnect().catch(() => undefined);
    throw new RedisUnreachableError(`Worker not ready: ${err.message}`);
  };
  const atStart = await Promise.race([redis.reachable.then(() => undefined), redis.unreachable]);
  if (atStart) await giveUp(atStart);
  const queue = createBullmqQueue({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    attempts: config.runAttempts,
    backoffMs: options.backoffMs,
    log,
  });
  const consumersReady = startBullmqWorkers({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    kinds,
    concurrency: config.workerConcurrency,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount ?? config.workerCrashRetries + 1,
    execute: runExecutor({ db, store, handlers, identity, log, crashRetries: config.workerCrashRetries, progressIntervalMs: config.progressIntervalMs, blockWarnMs: Math.floor(config.lockDurationMs / 4) }),
    // BullMQ failed the job without the executor (stalled more often than its backstop limit, which
    // is above WORKER_CRASH_RETRIES so the executor's count normally decides first): close the run too.
    onGaveUp: async (job, reason) => {
      await markFailed(db, job.runId, { code: 'INTERNAL', message: `The queue gave up on this run: ${reason}` });
    },
    log,
  });
  const started = await Promise.race([consumersReady, redis.unreachable]);
  if (started instanceof Error) {
    await queue.close().catch(() => undefined);
    await giveUp(started);
  }
  const consumers = started as BullmqWorkers;
  const reconciler =
    options.reconcile === false ? undefined : startReconciler({ db, queue, namespace: config.queuePrefix, intervalMs: config.reconcileIntervalMs, log });
  if (config.allowWeakCredentials) log('warn', 'ALLOW_WEAK_CREDENTIALS is set: placeholder and short credentials are accepted; never use it in a deployment');
  log('info', 'worker started', { kinds, concurrency: config.workerConcurrency, prefix: config.queuePrefix, ...identity });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await reconciler?.stop();
      await consumers.close(options.shutdownGraceMs ?? 10_000);
      await queue.close();
      await redis.stop();
      if (ownDb) await db.$disconnect();
      log('info', 'worker stopped');
    })());
  return { kinds, queue, consumers, reconciler, redisLost: redis.unreachable, close };
}

/** Process entry: validated config, then run until SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const log = jsonLog(config.logLevel, { component: 'worker' });
  let worker: RunningWorker;
  try {
    worker = await startWorker({ config, log });
  } catch (err) {
    console.error(err instanceof ConfigError || err instanceof RedisUnreachableError ? err.message : `Worker failed to start: ${(err as Error).stack ?? err}`);
    process.exit(1);
  }
  // Without Redis this worker can do nothing useful (its jobs' locks lapse and others take them
  // up): say so and exit non-zero, so a supervisor restarts it or someone is alerted.
  void worker.redisLost.then((err) => {
    log('error', 'exiting: Redis unreachable', { error: err.message });
    setTimeout(() => process.exit(1), 5000).unref();
    worker.close().finally(() => process.exit(1));
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C means "now": jobs still running are retaken by others once their locks expire.
      log('warn', 'second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    stopping = true;
    log('info', 'shutting down', { signal });
    // A handler that ignores its abort signal must not keep the process (and the GPU) forever;
    // its job is retaken by another worker once its lock expires.
    setTimeout(() => {
      log('error', 'shutdown timed out; exiting');
      process.exit(1);
    }, 30_000).unref();
    worker.close().then(
      () => process.exit(0),
      (err) => {
        log('error', 'shutdown failed', { error: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) void main();
