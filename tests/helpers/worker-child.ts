// A worker in its own process, for tests that cancel across processes or kill a worker mid-job.
// Started with `node --import tsx` (one process, so a test can SIGKILL the worker itself) and
// configured by environment variables (below; STORE_DIR selects the real handlers). Prints one JSON line {"ready":true,"pid":...} on
// stdout once it consumes jobs. SIGTERM: graceful stop.
import { loadConfig } from '../../src/config';
import { handlers as realHandlers } from '../../src/jobs/registry';
import { FsArtifactStore } from '../../src/storage';
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
    WORKER_KINDS: env.WORKER_KINDS,
    LOG_LEVEL: 'warn',
  });
  // STORE_DIR: the real job handlers on a shared artifact directory (fault injection on real runs);
  // otherwise a scripted slow handler that reads no artifacts.
  const real = env.STORE_DIR !== undefined;
  const handlers: HandlerRegistry = real ? realHandlers : { [KIND]: slowHandler(Number(env.STEPS ?? 20), Number(env.STEP_MS ?? 100)) };
  const worker = await startWorker({
    config,
    handlers,
    store: real ? new FsArtifactStore({ rootDir: env.STORE_DIR! }) : ({} as never),
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
