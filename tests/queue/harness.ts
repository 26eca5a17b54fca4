// The two queue adapters behind one test interface, so the same behavioural tests run against
// both (BullMQ on the real Redis, in-process) and prove they keep the same semantics.
import { loadConfig } from '../../src/config';
import type { Db } from '../../src/db/client';
import { createInProcessQueue } from '../../src/queue/inprocess-queue';
import type { JobQueue } from '../../src/queue/job-queue';
import { runExecutor } from '../../src/runs/executor';
import { silentLog } from '../../src/log';
import type { HandlerRegistry, RunKind } from '../../src/runs/types';
import { startWorker, type RunningWorker } from '../../src/worker';
import { uniqueName } from '../helpers/db';
import type { BullmqJobQueue } from '../../src/queue/bullmq-queue';

export const ATTEMPTS = 3;
export const BACKOFF_MS = 100;

export interface StartOptions {
  concurrency?: number;
}

export interface Harness {
  /** The producer side; valid after start(). */
  readonly queue: JobQueue;
  start(handlers: HandlerRegistry, options?: StartOptions): Promise<void>;
  /** Makes the queue forget a waiting job without touching PostgreSQL (Redis losing it). */
  dropJob(runId: string, kind: RunKind): Promise<void>;
  stop(): Promise<void>;
}

export type MakeHarness = (db: Db) => Harness;

const store = {} as never; // the scripted test handlers read no artifacts

export function testQueuePrefix(): string {
  const base = process.env.TEST_QUEUE_PREFIX;
  if (!base) throw new Error('TEST_QUEUE_PREFIX is unset: run tests through jest');
  // Unique per harness: parallel test files and consecutive tests never share queues.
  return `${base}_${uniqueName('q').replace(/-/g, '')}`;
}

export function testConfig(prefix: string, overrides: Record<string, string> = {}) {
  return loadConfig({
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    REDIS_URL: process.env.TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    RUN_ATTEMPTS: String(ATTEMPTS),
    STALLED_INTERVAL_MS: '5000',
    LOG_LEVEL: 'error',
    ...overrides,
  });
}

export const bullmqHarness: MakeHarness = (db) => {
  let worker: RunningWorker | undefined;
  return {
    get queue() {
      if (!worker) throw new Error('start() first');
      return worker.queue;
    },
    async start(handlers, options = {}) {
      const config = testConfig(testQueuePrefix(), { WORKER_CONCURRENCY: String(options.concurrency ?? 2) });
      worker = await startWorker({ config, handlers, db, store, reconcile: false, backoffMs: BACKOFF_MS, shutdownGraceMs: 500, log: silentLog });
    },
    async dropJob(runId, kind) {
      await (worker!.queue as BullmqJobQueue).queue(kind).remove(runId);
    },
    async stop() {
      await worker?.close();
      worker = undefined;
    },
  };
};

export const inProcessHarness: MakeHarness = (db) => {
  let queue: ReturnType<typeof createInProcessQueue> | undefined;
  return {
    get queue() {
      if (!queue) throw new Error('start() first');
      return queue;
    },
    async start(handlers, options = {}) {
      queue = createInProcessQueue({
        execute: runExecutor({ db, store, handlers, log: silentLog, progressIntervalMs: 0 }),
        concurrency: options.concurrency ?? 2,
        attempts: ATTEMPTS,
        backoffMs: BACKOFF_MS,
      });
    },
    async dropJob(runId) {
      // Removing a waiting job is exactly what losing it looks like in memory.
      await queue!.cancel(runId);
    },
    async stop() {
      await queue?.close(500);
      queue = undefined;
    },
  };
};
