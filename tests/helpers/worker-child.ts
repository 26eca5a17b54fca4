// A worker in its own process, for tests that cancel across processes or kill a worker mid-job.
// Started with `node --import tsx` (one process, so a test can SIGKILL the worker itself) and
// configured by environment variables (below). Prints one JSON line {"ready":true,"pid":...} on
// stdout once it consumes jobs. SIGTERM: graceful stop.
import { loadConfig } from '../../src/config';
import { jsonLog } from '../../src/log';
import type { HandlerRegistry } from '../../src/runs/types';
import { startWorker } from '../../src/worker';
import { KIND, slowHandler } from '../runs/fixtures';

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig({
    DATABASE_URL: env.DATABASE_URL,
    REDIS_URL: env.REDIS_URL,
    QUEUE_PREFIX: env.QUEUE_PREFIX,
    LOCK_DURATION_MS: env.LOCK_DURATION_MS ?? '3000',
    STALLED_INTERVAL_MS: env.STALLED_INTERVAL_MS ?? '1000',
    WORKER_CRASH_RETRIES: env.WORKER_CRASH_RETRIES,
    RUN_ATTEMPTS: env.RUN_ATTEMPTS ?? '3',
    WORKER_CONCURRENCY: '1',
    LOG_LEVEL: 'warn',
  });
  const handlers: HandlerRegistry = { [KIND]: slowHandler(Number(env.STEPS ?? 20), Number(env.STEP_MS ?? 100)) };
  const worker = await startWorker({
    config,
    handlers,
    store: {} as never, // the slow test handler reads no artifacts
    reconcile: false,
    backoffMs: 100,
    shutdownGraceMs: Number(env.GRACE_MS ?? 10_000),
    maxStalledCount: env.MAX_STALLED_COUNT === undefined ? undefined : Number(env.MAX_STALLED_COUNT),
    workerId: env.WORKER_NAME,
    log: jsonLog('warn', { component: 'worker-child', name: env.WORKER_NAME }),
  });
  process.on('SIGTERM', () => {
    worker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
