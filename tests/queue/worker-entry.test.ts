// The worker process entry (src/worker.ts) refuses a bad environment with the variable's name.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

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
