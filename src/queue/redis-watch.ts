// Whether this process reaches its Redis. A worker without Redis can neither take jobs nor keep
// the locks of the ones it runs (others take them up after the lock expires), so after
// WORKER_REDIS_TIMEOUT_MS it says so and exits non-zero for its supervisor to restart or alert,
// instead of retrying connections forever.
import IORedis from 'ioredis';
import type { Log } from '../log';
import { redisOptions } from './bullmq-queue';

export interface RedisWatch {
  /** Resolves (never rejects) once Redis has been unreachable for timeoutMs. */
  unreachable: Promise<Error>;
  /** Resolves once a PING succeeded (for the start-up wait). */
  reachable: Promise<void>;
  stop(): Promise<void>;
}

export function watchRedis(options: { url: string; timeoutMs: number; log: Log; pingEveryMs?: number }): RedisWatch {
  const { log, timeoutMs } = options;
  const target = (() => {
    const u = new URL(options.url);
    return `${u.hostname}:${u.port || 6379}`;
  })();
  // No offline queue: a PING while disconnected fails at once instead of waiting for a reconnect.
  const client = new IORedis({ ...redisOptions(options.url), enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: Math.min(10_000, timeoutMs) });
  let lastError = 'no answer yet';
  client.on('error', (err: Error) => (lastError = err.message));
  let downSince: number | undefined = Date.now();
  let reported = false;
  let resolveUnreachable!: (err: Error) => void;
  const unreachable = new Promise<Error>((resolve) => (resolveUnreachable = resolve));
  let resolveReachable!: () => void;
  const reachable = new Promise<void>((resolve) => (resolveReachable = resolve));
  let stopped = false;
  let gaveUp = false;
  const every = options.pingEveryMs ?? Math.max(100, Math.min(5000, Math.floor(timeoutMs / 5)));

  const up = () => {
    if (reported) log('info', 'Redis reachable again: ready', { redis: target });
    downSince = undefined;
    reported = false;
    resolveReachable();
  };
  // Connected (at start or after a reconnect): no need to wait for the next PING.
  client.on('ready', up);
  const check = async () => {
    try {
      await client.ping();
      up();
    } catch (err) {
      lastError = (err as Error).message || lastError;
      downSince ??= Date.now();
      const down = Date.now() - downSince;
      // The first PING may go out before the connection is up; that is no outage yet.
      if (!reported && (client.status !== 'connecting' && client.status !== 'wait' || down > every)) {
        reported = true;
        log('error', 'not ready: Redis unreachable', { redis: target, error: lastError, exitsAfterMs: timeoutMs });
      }
      if (down >= timeoutMs && !gaveUp) {
        gaveUp = true;
        resolveUnreachable(new Error(`Redis at ${target} unreachable for ${Math.round(down / 1000)} s (${lastError}); WORKER_REDIS_TIMEOUT_MS is ${timeoutMs}`));
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    void check().finally(() => {
      if (!stopped && !gaveUp) timer = setTimeout(loop, every);
    });
  };
  loop();
  return {
    unreachable,
    reachable,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      client.disconnect();
    },
  };
}
