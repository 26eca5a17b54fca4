// JobQueue over BullMQ (production profile). One queue per RunKind so GPU and CPU-only workers can
// specialise by subscribing to different kinds; jobId = runId so enqueueing twice (API retry,
// reconciler) is a no-op. Workers live in bullmq-worker.ts; this side only produces and inspects.
import { Queue, type JobsOptions } from 'bullmq';
import IORedis, { type RedisOptions } from 'ioredis';
import { jsonLog, type Log } from '../log';
import type { RunJob } from './contract';
import type { RunKind } from '../generated/prisma/enums';
import { QueueUnavailableError, RUN_KINDS, isLive, type EnqueueOptions, type JobQueue, type JobStatus } from './job-queue';

export const queueName = (kind: RunKind): string => `runs.${kind}`;

/** Pub/sub channel on which cancels are broadcast to every worker (BullMQ has no remote cancel). */
export const cancelChannel = (prefix: string): string => `${prefix}:runs:cancel`;

/**
 * ioredis options from a redis:// or rediss:// URL. BullMQ needs maxRetriesPerRequest: null on
 * connections that block (workers), and it rejects ioredis key prefixes (it has its own).
 */
export function redisOptions(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

export interface BullmqQueueOptions {
  redisUrl: string;
  /** Redis key prefix (config QUEUE_PREFIX); tests use a unique one per run. */
  prefix: string;
  /** Attempts per run, including the first (config RUN_ATTEMPTS). */
  attempts: number;
  /** First retry delay; doubles on each further attempt. */
  backoffMs?: number;
  /** How many finished jobs Redis keeps for inspection (the Run rows are the real record). */
  keepCompleted?: number;
  keepFailed?: number;
  /**
   * How long one queue operation (enqueue, cancel, status) waits for Redis before it fails with
   * QueueUnavailableError; while the connection is known to be down it fails at once.
   */
  commandTimeoutMs?: number;
  /** Where Redis connection errors go (they must be listened to, or an emitter 'error' crashes the process). */
  log?: Log;
}

export class BullmqJobQueue implements JobQueue {
  private readonly connection: IORedis;
  private readonly queues = new Map<RunKind, Queue>();
  private readonly jobOptions: JobsOptions;

  private readonly log: Log;

  constructor(private readonly options: BullmqQueueOptions) {
    this.log = options.log ?? jsonLog('warn', { component: 'job-queue' });
    this.connection = new IORedis(redisOptions(options.redisUrl));
    // ioredis reconnects by itself; log instead of printing "Unhandled error event" for every retry.
    this.connection.on('error', (err) => this.log('error', 'redis connection error', { error: err.message }));
    this.jobOptions = {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 10_000 },
      removeOnComplete: { count: options.keepCompleted ?? 1000, age: 7 * 24 * 3600 },
      removeOnFail: { count: options.keepFailed ?? 5000, age: 30 * 24 * 3600 },
    };
  }

  /** The BullMQ queue of one kind (created on first use; they share one connection). */
  queue(kind: RunKind): Queue {
    let q = this.queues.get(kind);
    if (!q) {
      q = new Queue(queueName(kind), { connection: this.connection, prefix: this.options.prefix });
      q.on('error', (err) => this.log('error', 'job queue error', { kind, error: err.message }));
      this.queues.set(kind, q);
    }
    return q;
  }

  /**
   * Runs a queue operation against Redis within commandTimeoutMs. An operation that times out may
   * still complete once Redis is back (ioredis queues it); every operation here is idempotent.
   */
  private async bounded<T>(what: string, op: () => Promise<T>): Promise<T> {
    const status = this.connection.status;
    if (status === 'reconnecting' || status === 'end' || status === 'close')
      throw new QueueUnavailableError(`Redis is unreachable (connection ${status}); could not ${what}`);
    const ms = this.options.commandTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueUnavailableError(`Redis did not answer within ${ms} ms; could not ${what}`)), ms);
    });
    const work = op();
    work.catch(() => undefined); // a late failure after the timeout is not unhandled
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async ping(): Promise<void> {
    await this.bounded('ping Redis', () => this.connection.ping());
  }

  async enqueue(job: RunJob, options: EnqueueOptions = {}): Promise<void> {
    return this.bounded(`enqueue run ${job.runId}`, () => this.enqueueNow(job, options));
  }

  private async enqueueNow(job: RunJob, options: EnqueueOptions): Promise<void> {
    const q = this.queue(job.kind);
    if (options.replaceFinished) {
      // BullMQ ignores an add whose id it still keeps as completed/failed; drop that record first.
      const state = await q.getJobState(job.runId);
      if (state === 'completed' || state === 'failed') await q.remove(job.runId);
    }
    const data: RunJob = { runId: job.runId, kind: job.kind };
    await q.add(job.kind, data, { ...this.jobOptions, jobId: job.runId });
  }

  async cancel(runId: string, kind?: RunKind): Promise<void> {
    return this.bounded(`cancel run ${runId}`, () => this.cancelNow(runId, kind));
  }

  private async cancelNow(runId: string, kind?: RunKind): Promise<void> {
    for (const k of kind ? [kind] : RUN_KINDS) {
      const q = this.queue(k);
      const state = await q.getJobState(runId);
      // remove() refuses a locked (active) job; if it became active meanwhile, the broadcast below stops it.
      if (state !== 'unknown' && state !== 'active' && state !== 'completed' && state !== 'failed')
        await q.remove(runId).catch(() => undefined);
    }
    await this.connection.publish(cancelChannel(this.options.prefix), runId);
  }

  async status(runId: string, kind?: RunKind): Promise<JobStatus> {
    return this.bounded(`read the state of run ${runId}`, () => this.statusNow(runId, kind));
  }

  private async statusNow(runId: string, kind?: RunKind): Promise<JobStatus> {
    for (const k of kind ? [kind] : RUN_KINDS) {
      const q = this.queue(k);
      const state = await q.getJobState(runId);
      if (state === 'unknown') continue;
      if (state === 'active' || state === 'completed') return { state };
      if (state === 'failed') return { state, failedReason: (await q.getJob(runId))?.failedReason };
      return { state: 'waiting' }; // waiting, delayed (retry backoff), prioritized, waiting-children
    }
    return { state: 'missing' };
  }

  async has(runId: string, kind?: RunKind): Promise<boolean> {
    return isLive((await this.status(runId, kind)).state);
  }

  /** Bounded whatever the Redis state: a connection that is not up is dropped, not drained. */
  async close(): Promise<void> {
    const ms = this.options.commandTimeoutMs ?? 2000;
    const within = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);
    if (this.connection.status !== 'ready') this.connection.disconnect();
    await within(Promise.all([...this.queues.values()].map((q) => q.close())));
    this.queues.clear();
    if (this.connection.status === 'ready') await within(this.connection.quit());
    this.connection.disconnect();
  }
}

export function createBullmqQueue(options: BullmqQueueOptions): BullmqJobQueue {
  return new BullmqJobQueue(options);
}
