// The worker process entry (src/worker.ts) refuses a bad environment with the variable's name.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { testQueuePrefix } from './harness';

const ROOT = path.resolve(__dirname, '../..');

// node with tsx's loader, as `npm run worker` does through the tsx CLI.

it('exits with status 1 and names the bad variable when the configuration is invalid', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BRAINALIGN_PROFILE: 'production', REDIS_URL: 'localhost:6379', STALLED_INTERVAL_MS: 'soon' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('Invalid configuration');
  expect(result.stderr).toMatch(/REDIS_URL: expected redis:\/\/host:port \(got "localhost:6379"\)/);
  expect(result.stderr).toMatch(/STALLED_INTERVAL_MS: expected a positive integer/);
});

it('exits with status 1 when no Redis is configured (the embedded profile has no worker process)', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/none' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('REDIS_URL: required to run a worker');
});

describe('a worker that cannot reach Redis', () => {
  const base = () => ({
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    DATABASE_URL: process.env.TEST_DATABASE_URL!,
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'ba-worker-')),
    QUEUE_PREFIX: testQueuePrefix(),
    WORKER_REDIS_TIMEOUT_MS: '1500',
  });

  it('says it is not ready and exits 1 after WORKER_REDIS_TIMEOUT_MS when Redis is unreachable at start', async () => {
    const refused = await freePort(); // nothing listens there
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], { cwd: ROOT, env: { ...base(), REDIS_URL: `redis://127.0.0.1:${refused}` } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('"message":"not ready: Redis unreachable"');
    expect(err).toMatch(new RegExp(`Worker not ready: Redis at 127\\.0\\.0\\.1:${refused} unreachable for \\d+ s .*WORKER_REDIS_TIMEOUT_MS is 1500`));
  }, 30_000);

  it('exits 1 when Redis goes away while it runs, after saying so', async () => {
    // The worker reaches Redis through a proxy the test closes.
    const redis = new URL(process.env.TEST_REDIS_URL!);
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(redis.port || 6379), redis.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as net.AddressInfo).port;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: ROOT,
      env: { ...base(), REDIS_URL: `redis://127.0.0.1:${port}`, WORKER_KINDS: 'IMPORT_RESPONSES', RECONCILE_INTERVAL_MS: '600000' },
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const deadline = Date.now() + 25_000;
      while (!err.includes('"message":"worker started"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(err).toContain('"message":"worker started"');
      proxy.close();
      for (const s of sockets) s.destroy();
      expect(await exited).toBe(1);
      expect(err).toContain('"message":"not ready: Redis unreachable"');
      expect(err).toContain('"message":"exiting: Redis unreachable"');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      proxy.close();
    }
  }, 40_000);
});
