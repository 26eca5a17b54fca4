// Workers in separate processes (tests/helpers/worker-child.ts), as in production, for the tests
// that cancel across processes, kill a worker, or stop one gracefully. The test process only
// produces jobs (through `producer`) and reads PostgreSQL.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Db } from '../../src/db/client';
import { createBullmqQueue, type BullmqJobQueue } from '../../src/queue/bullmq-queue';
import { testDb } from '../helpers/db';
import { createLab } from '../runs/fixtures';
import { ATTEMPTS, BACKOFF_MS, testQueuePrefix } from './harness';

const ROOT = path.resolve(__dirname, '../..');
const CHILD = path.join(ROOT, 'tests/helpers/worker-child.ts');

/** For the tests that kill a worker: its job is retaken within a few seconds. */
export const FAST_STALL = { LOCK_DURATION_MS: '3000', STALLED_INTERVAL_MS: '1000' };

export interface Child {
  proc: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<number | null>;
}

export interface ChildWorkers {
  db: Db;
  labId: string;
  producer: BullmqJobQueue;
  /** This test's queue prefix (for a worker started in the test process). */
  prefix: string;
  /** Starts a worker process on this test's queue prefix; resolves once it consumes jobs. */
  start(env: Record<string, string>): Promise<Child>;
}

/** Registers the hooks (fresh prefix and producer per test, children killed after it). */
export function useChildWorkers(): ChildWorkers {
  const children: Child[] = [];
  let prefix = '';
  const ctx = { start: (env: Record<string, string>) => startChild(prefix, env, children) } as ChildWorkers;

  jest.setTimeout(60_000);
  beforeAll(async () => {
    ctx.db = testDb();
    ctx.labId = await createLab(ctx.db);
  });
  afterAll(async () => {
    await ctx.db.$disconnect();
  });
  beforeEach(() => {
    prefix = testQueuePrefix();
    ctx.prefix = prefix;
    ctx.producer = createBullmqQueue({ redisUrl: process.env.TEST_REDIS_URL!, prefix, attempts: ATTEMPTS, backoffMs: BACKOFF_MS });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await c.exited;
    }
    await ctx.producer.close();
  });
  return ctx;
}

async function startChild(prefix: string, env: Record<string, string>, children: Child[]): Promise<Child> {
  // node itself with tsx's loader, not node_modules/.bin/tsx: that CLI runs the script in a
  // grandchild process, so SIGKILL would hit the wrapper and leave the worker running.
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      REDIS_URL: process.env.TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      // Long enough that a busy machine never loses a lock by accident; the stall tests shorten it.
      LOCK_DURATION_MS: '20000',
      STALLED_INTERVAL_MS: '5000',
      RUN_ATTEMPTS: String(ATTEMPTS),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const child: Child = { proc, pid: proc.pid!, output: () => out, exited };
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker child did not start:\n${out}`)), 30_000);
    const onData = () => {
      if (out.includes('"ready":true')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker child exited (${code}) before it was ready:\n${out}`));
    });
  });
  return child;
}
