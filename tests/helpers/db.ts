// Access to the run's fresh database (created in tests/setup/global-setup.ts).
import { randomBytes } from 'node:crypto';
import { createDb, type Db, type DbOptions } from '../../src/db/client';

export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is unset: run tests through jest (globalSetup creates the database)');
  return url;
}

export function testDb(options?: DbOptions): Db {
  return createDb(testDatabaseUrl(), options);
}

/** A name unique to this test file run, so tests sharing the database never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
