// Fails when prisma/schema.prisma and the committed SQL in prisma/migrations disagree, i.e. when
// someone changed the schema without `npm run db:migration -- <name>` (or edited a migration).
//
// It talks JSON-RPC to scripts/schema-engine (the WASM stand-in for Prisma's schema engine)
// directly instead of going through `prisma migrate diff`: same engine call, a third of the time.
// The engine replays the migrations in a throwaway shadow database that it creates and drops;
// afterAll drops any it reported and left behind.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';

const ROOT = path.resolve(__dirname, '../..');
const ENGINE = path.join(ROOT, 'scripts', 'schema-engine');
const SCHEMA = path.join(ROOT, 'prisma', 'schema.prisma');
const MIGRATIONS = path.join(ROOT, 'prisma', 'migrations');
// Only the server is used: the shadow database is created on it. No application database needed.
const SERVER_URL = process.env.TEST_PG_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The migrations list exactly as the Prisma CLI builds it for the engine. */
function migrationsList() {
  const lock = path.join(MIGRATIONS, 'migration_lock.toml');
  const dirs = readdirSync(MIGRATIONS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b));
  return {
    baseDir: MIGRATIONS,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lock) ? readFileSync(lock, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: dirs.map((name) => {
      const file = path.join(MIGRATIONS, name, 'migration.sql');
      return {
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: existsSync(file)
            ? { tag: 'ok', value: readFileSync(file, 'utf8') }
            : { tag: 'error', value: `missing ${file}` },
        },
      };
    }),
  };
}

interface DiffOutcome {
  exitCode: number;
  script: string;
}

/** One engine process; requests are answered in order, `print` requests carry the diff text. */
class Engine {
  private child: ChildProcessWithoutNullStreams;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private printed: string[] = [];
  readonly shadowDatabases = new Set<string>();
  stderr = '';

  constructor() {
    // No shadowDatabaseUrl in the datasource: the engine creates a fresh shadow database.
    this.child = spawn(process.execPath, [ENGINE, '--datasource', JSON.stringify({ url: SERVER_URL })], { cwd: ROOT });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderr += line + '\n';
      const name = /"shadow_database":"([^"]+)"/.exec(line)?.[1];
      if (name) this.shadowDatabases.add(name);
    });
    this.child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`schema engine exited (${code}):\n${this.stderr}`));
      this.pending.clear();
    });
  }

  private onLine(line: string) {
    const msg = JSON.parse(line);
    if (msg.method === 'print') {
      this.printed.push(msg.params.content);
      this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} }) + '\n');
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error.data?.message ?? msg.error.message));
    else p.resolve(msg.result);
  }

  private call(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  /** SQL that takes a database built from the committed migrations to `schema`. */
  async diffMigrationsTo(schema: string): Promise<DiffOutcome> {
    this.printed = [];
    const result = (await this.call('diff', {
      from: { tag: 'migrations', ...migrationsList() },
      to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA, content: schema }] },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    })) as { exitCode: number };
    return { exitCode: result.exitCode, script: this.printed.join('\n') };
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end(); // the engine drops what it still holds and exits
    });
  }
}

describe('prisma migrations', () => {
  let engine: Engine;

  beforeAll(() => {
    engine = new Engine();
  });

  afterAll(async () => {
    await engine.stop();
    const leftovers = [...engine.shadowDatabases];
    if (!leftovers.length) return;
    const client = new Client({ connectionString: SERVER_URL });
    await client.connect();
    try {
      for (const name of leftovers) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  });

  test('the lock file names PostgreSQL', () => {
    expect(readFileSync(path.join(MIGRATIONS, 'migration_lock.toml'), 'utf8')).toMatch(/^provider = "postgresql"$/m);
  });

  test('schema.prisma matches what the committed migrations build', async () => {
    const { exitCode, script } = await engine.diffMigrationsTo(readFileSync(SCHEMA, 'utf8'));
    if (exitCode !== 0) {
      throw new Error(
        'prisma/schema.prisma and prisma/migrations disagree. Create a migration with\n' +
          '  npm run db:migration -- <name>\n' +
          'The missing migration would be:\n\n' +
          script,
      );
    }
    expect(exitCode).toBe(0);
  });

  test('the check notices a schema change (guards against a check that always passes)', async () => {
    const changed = readFileSync(SCHEMA, 'utf8') + '\nmodel DriftProbe {\n  id Int @id\n}\n';
    const { exitCode, script } = await engine.diffMigrationsTo(changed);
    expect(exitCode).toBe(2);
    expect(script).toContain('CREATE TABLE "DriftProbe"');
  });

  test('shadow databases are dropped after use', async () => {
    expect(engine.shadowDatabases.size).toBeGreaterThan(0);
    const client = new Client({ connectionString: SERVER_URL });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [[...engine.shadowDatabases]]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
