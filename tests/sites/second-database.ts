// A second migrated database for a second site in the same test file (copied from the run's
// template, as tests/setup/per-file-database.ts does for the first), dropped by `drop`.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDb, type Db } from '../../src/db/client';

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: process.env.TEST_PG_SERVER_URL! });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function secondDatabase(): Promise<{ db: Db; drop(): Promise<void> }> {
  const template = process.env.TEST_DATABASE_NAME!;
  const name = `${template}_site_${randomBytes(4).toString('hex')}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await admin(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      break;
    } catch (err) {
      // PostgreSQL refuses to copy a template another CREATE DATABASE is copying: retry briefly.
      if (attempt >= 50 || !/being accessed by other users/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const db = createDb(process.env.TEST_PG_SERVER_URL!.replace(/\/[^/]*$/, `/${name}`));
  return {
    db,
    drop: async () => {
      await db.$disconnect();
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
