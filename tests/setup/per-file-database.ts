// Each test file gets its own copy of the migrated database (CREATE DATABASE ... TEMPLATE) and its
// own queue prefix, so worker processes and reconcilers started by one file never see another
// file's runs.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

const server = process.env.TEST_PG_SERVER_URL!;
const template = process.env.TEST_DATABASE_NAME!;
const name = `${template}_${randomBytes(4).toString('hex')}`;

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: server });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  // PostgreSQL refuses to copy a template that another CREATE DATABASE is copying: retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
      break;
    } catch (err) {
      if (attempt >= 50 || !/being accessed by other users/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  process.env.TEST_DATABASE_URL = server.replace(/\/[^/]*$/, `/${name}`);
  process.env.TEST_QUEUE_PREFIX = `${process.env.TEST_QUEUE_PREFIX}_${randomBytes(3).toString('hex')}`;
}, 60_000);

afterAll(async () => {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}, 60_000);
