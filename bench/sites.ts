// Site exchange cost: seeds N public scores at site A, then times A's export (catalog read,
// canonical JSON, Ed25519 signature), B's import (verification and one transaction), a repeated
// import (recognised by id), and B's leaderboard over the imported rows, all in one process
// against two fresh databases on the local PostgreSQL.
//
//   npm run bench -- sites [--scores 10000]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/client';
import { dropDatabase, ensureDatabase, migrate } from '../src/db/migrate';
import { anonymous } from '../src/access/viewer';
import { leaderboard } from '../src/domain/leaderboards';
import { createContext } from '../src/resolvers/context';
import { codeVersion, type Services } from '../src/services';
import { buildBundleContent, signBundle } from '../src/sites/export';
import { siteIdentity } from '../src/sites/identity';
import { importBundle } from '../src/sites/import';
import { FsArtifactStore } from '../src/storage';
import { RecordingQueue } from '../tests/helpers/api';
import { seed } from './leaderboard';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await work();
  return [out, Math.round(performance.now() - t)];
}

export async function main(args: string[]): Promise<void> {
  const nScores = arg(args, 'scores', 10_000);
  const server = 'postgresql://postgres@127.0.0.1:5432/postgres';
  const names = ['a', 'b'].map((s) => `ba_bench_site_${s}_${randomBytes(3).toString('hex')}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ba-bench-sites-'));
  const sites: Services[] = [];
  try {
    for (const [i, name] of names.entries()) {
      await ensureDatabase(server, name);
      const url = server.replace(/postgres$/, name);
      await migrate(url);
      const db = createDb(url);
      const lab = await db.lab.create({ data: { name: `lab-${i}` } });
      sites.push({
        config: loadConfig({ DATA_DIR: dir, SITE_NAME: `site-${'ab'[i]}` }),
        db,
        store: new FsArtifactStore({ rootDir: path.join(dir, `store-${i}`), publicBaseUrl: 'http://127.0.0.1:1' }),
        queue: new RecordingQueue(),
        defaultLabId: lab.id,
        version: codeVersion,
      });
    }
    const [a, b] = sites;
    await seed(server.replace(/postgres$/, names[0]), nScores);
    const benchOnB = await b.db.benchmark.create({ data: { name: 'bench-encoding', kind: 'ENCODING', metric: 'pearson_r.mean' } });
    const idA = await siteIdentity(a);
    await b.db.trustedSite.create({ data: { name: idA.name, publicKey: idA.publicKey } });

    const [content, collectMs] = await timed(() => buildBundleContent(a, idA));
    const [bundle, signMs] = await timed(async () => signBundle(idA, content));
    const text = JSON.stringify(bundle);
    const [first, importMs] = await timed(() => importBundle(b, JSON.parse(text)));
    const [again, reimportMs] = await timed(() => importBundle(b, JSON.parse(text)));
    const ctx = createContext(b, anonymous);
    const [board, boardMs] = await timed(() => leaderboard(ctx, { benchmarkId: benchOnB.id, first: 20 }));
    const result = {
      scores: nScores,
      bundleBytes: text.length,
      exportMs: collectMs + signMs,
      collectMs,
      signMs,
      importMs,
      imported: first.imported,
      reimportMs,
      reimportAlreadyImported: again.alreadyImported,
      leaderboardFirstPageMs: boardMs,
      leaderboardRows: board.totalCount,
    };
    console.log(JSON.stringify(result));
  } finally {
    for (const s of sites) await s.db.$disconnect();
    for (const name of names) await dropDatabase(server, name).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
