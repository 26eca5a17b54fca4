// One fresh PostgreSQL database and one Redis key prefix per test run, on the real services.
import { randomBytes } from 'node:crypto';
import { ensureDatabase, migrate } from '../../src/db/migrate';

export default async function globalSetup(): Promise<void> {
  const server = process.env.TEST_PG_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const name = `ba_test_${runId}`;
  await ensureDatabase(server, name);
  const url = server.replace(/\/[^/]*$/, `/${name}`);
  await migrate(url);
  process.env.TEST_PG_SERVER_URL = server;
  process.env.TEST_DATABASE_NAME = name;
  process.env.TEST_DATABASE_URL = url;
  process.env.TEST_REDIS_URL ??= 'redis://127.0.0.1:6379';
  process.env.TEST_QUEUE_PREFIX = `ba_test_${runId}`;
}
