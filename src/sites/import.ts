// Accepts another site's signed bundle: checked in full before anything is written, then written
// in one transaction. Order of checks: shape, trusted site, its key, signature, id. Re-importing
// a bundle adds nothing; a bundle older than the newest one imported from that site is a replay.
import { createHash } from 'node:crypto';
import type { Db } from '../db/client';
import type { ImportedScore } from '../generated/prisma/client';
import type { Services } from '../services';
import { signedBundleSchema, type BundleArray, type BundleContent, type SignedBundle } from './bundle-format';
import { canonicalJson } from './canonical-json';
import { publicKeyFromRaw, verifyBytes } from './ed25519';
import { bundleMalformed, bundleReplayed, keyMismatch, signatureInvalid, untrustedSite } from './errors';
import { announceImportedScoresChanged } from './notify';
import { findUnstorableText } from '../text/storable-text';

export interface ImportResult {
  bundleId: string;
  site: string;
  /** Scores added or changed. */
  imported: number;
  /** Scores already present unchanged, or whose benchmark this site does not have. */
  skipped: number;
  /** Scores of that site removed because the bundle no longer carries them (made private, deleted). */
  withdrawn: number;
  /** True when this exact bundle had been imported before (nothing was written). */
  alreadyImported: boolean;
  /** Benchmarks (name and kind) in the bundle that this site has not created. */
  unmatchedBenchmarks: string[];
}

/** Arrays carried by the bundle, stored under their sha256: { name: { sha256, size } } per origin run. */
type StoredArrays = Map<string, Record<string, { sha256: string; size: number }>>;

export async function importBundle(services: Services, raw: unknown): Promise<ImportResult> {
  // A pulled bundle has not passed the GraphQL boundary: its text is checked here, like an argument's.
  const unstorable = findUnstorableText(raw, 'bundle');
  if (unstorable) throw bundleMalformed(`${unstorable.field} ${unstorable.reason}`, unstorable.field);
  const bundle = parseBundle(raw);
  const { content } = bundle;
  const site = await services.db.trustedSite.findUnique({ where: { name: content.site.name } });
  if (!site) throw untrustedSite(content.site.name);
  if (content.site.publicKey !== site.publicKey) throw keyMismatch(site.name, site.publicKey, content.site.publicKey);
  // Verify the bytes the signer signed: the canonical form of the content exactly as received.
  const bytes = Buffer.from(canonicalJson((raw as { content: unknown }).content), 'utf8');
  if (!verifyBytes(publicKeyFromRaw(site.publicKey)!, bytes, bundle.signature)) throw signatureInvalid(site.name);
  if (createHash('sha256').update(bytes).digest('hex') !== bundle.bundleId)
    throw bundleMalformed('bundleId is not the sha256 of the canonical content; the bundle was altered after signing', 'bundleId');
  checkUniqueScores(content);

  const previous = await services.db.siteBundleImport.findUnique({ where: { bundleId: bundle.bundleId } });
  if (previous) return alreadyDone(bundle, site.name, content);
  const createdAt = new Date(content.createdAt);
  await refuseReplay(services.db, site, createdAt);
  // Arrays are stored before the transaction (checked against their hashes first); a refusal
  // inside it leaves only content-addressed bytes that no row names.
  const arrays = await storeArrays(services, content);
  return services.db.$transaction(
    async (tx) => {
      // One import per site at a time: the replay check and the writes see a settled history.
      await tx.$queryRaw`SELECT id FROM "TrustedSite" WHERE id = ${site.id}::uuid FOR UPDATE`;
      if (await tx.siteBundleImport.findUnique({ where: { bundleId: bundle.bundleId } })) return alreadyDone(bundle, site.name, content);
      await refuseReplay(tx as unknown as Db, site, createdAt);
      const result = await writeScores(tx as unknown as Db, site.id, bundle, arrays);
      if (result.imported || result.withdrawn) await announceImportedScoresChanged(tx);
      await tx.siteBundleImport.create({
        data: { bundleId: bundle.bundleId, siteId: site.id, bundleCreatedAt: createdAt, nScores: countScores(content), imported: result.imported },
      });
      return { bundleId: bundle.bundleId, site: site.name, alreadyImported: false, ...result };
    },
    { maxWait: 10_000, timeout: 120_000 },
  );
}

/** A bundle signed before the newest one imported from its site would roll its scores back. */
async function refuseReplay(db: Db, site: { id: string; name: string }, createdAt: Date): Promise<void> {
  const newest = await db.siteBundleImport.findFirst({ where: { siteId: site.id }, orderBy: { bundleCreatedAt: 'desc' } });
  if (newest && newest.bundleCreatedAt > createdAt) throw bundleReplayed(site.name, createdAt.toISOString(), newest.bundleCreatedAt.toISOString());
}

function parseBundle(raw: unknown): SignedBundle {
  const parsed = signedBundleSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    throw bundleMalformed(`Not a BrainAlign site bundle: ${field || 'bundle'}: ${issue.message}`, field || undefined);
  }
  return parsed.data;
}

function checkUniqueScores(content: BundleContent): void {
  const seen = new Set<string>();
  content.runs.forEach((run, i) =>
    run.scores.forEach((s, j) => {
      const key = JSON.stringify([run.id, s.metric, s.scope]);
      if (seen.has(key)) throw bundleMalformed(`runs.${i}.scores.${j} repeats metric ${s.metric} scope ${s.scope} of run ${run.id}`, `content.runs.${i}.scores.${j}`);
      seen.add(key);
    }),
  );
}

function countScores(content: BundleContent): number {
  return content.runs.reduce((n, r) => n + r.scores.length, 0);
}

function alreadyDone(bundle: SignedBundle, site: string, content: BundleContent): ImportResult {
  return { bundleId: bundle.bundleId, site, imported: 0, skipped: countScores(content), withdrawn: 0, alreadyImported: true, unmatchedBenchmarks: [] };
}

/** Carried arrays go to the artifact store first (content-addressed, so a failed import leaves only dedupable bytes). */
async function storeArrays(services: Services, content: BundleContent): Promise<StoredArrays> {
  const stored: StoredArrays = new Map();
  for (const [i, run] of content.runs.entries()) {
    const out: Record<string, { sha256: string; size: number }> = {};
    for (const [name, a] of Object.entries(run.arrays) as [string, BundleArray][]) {
      if (a.npy === undefined) continue;
      const bytes = Buffer.from(a.npy, 'base64');
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (bytes.length !== a.size || hash !== a.sha256)
        throw bundleMalformed(`Array ${name} of run ${run.id} does not match its recorded size and sha256`, `content.runs.${i}.arrays.${name}`);
      const put = await services.store.putStream(bytes, { expectedSha256: a.sha256 });
      out[name] = { sha256: put.sha256, size: put.size };
    }
    stored.set(run.id, out);
  }
  return stored;
}

const keyOf = (originRunId: string, metric: string, scope: string) => JSON.stringify([originRunId, metric, scope]);

async function writeScores(db: Db, siteId: string, bundle: SignedBundle, arrays: StoredArrays) {
  const { content } = bundle;
  // Benchmarks are matched by name and kind: ids are local to each site.
  const names = [...new Set(content.runs.map((r) => r.benchmark.name))];
  const local = new Map((await db.benchmark.findMany({ where: { name: { in: names } } })).map((b) => [b.name, b]));
  const unmatched = new Set<string>();
  const existing = new Map(
    (await db.importedScore.findMany({ where: { siteId } })).map((s) => [keyOf(s.originRunId, s.metric, s.scope), s] as const),
  );
  const seen = new Set<string>();
  const writes: ImportedRow[] = [];
  let created = 0;
  let changed = 0;
  let skipped = 0;
  for (const run of content.runs) {
    const benchmark = local.get(run.benchmark.name);
    if (!benchmark || benchmark.kind !== run.benchmark.kind) {
      unmatched.add(`${run.benchmark.name} (${run.benchmark.kind})`);
      skipped += run.scores.length;
      continue;
    }
    for (const s of run.scores) {
      const key = keyOf(run.id, s.metric, s.scope);
      seen.add(key);
      const row = {
        siteId,
        benchmarkId: benchmark.id,
        originRunId: run.id,
        metric: s.metric,
        scope: s.scope,
        value: s.value,
        ciLow: s.ciLow,
        ciHigh: s.ciHigh,
        normalized: s.normalized,
        n: s.n,
        modelName: run.model?.name ?? '',
        modelFamily: run.model?.family ?? '',
        subjectName: run.subject?.name ?? '',
        datasetName: run.subject?.dataset ?? '',
        provenance: run.provenance,
        arrays: arrays.get(run.id) ?? {},
        originCreatedAt: new Date(s.createdAt),
        bundleId: bundle.bundleId,
      };
      const old = existing.get(key);
      if (old && sameScore(old, row)) skipped++;
      else {
        writes.push(row);
        if (old) changed++;
        else created++;
      }
    }
  }
  await upsertRows(db, writes);
  // A bundle is the site's current public record for the benchmarks it covers: rows it no longer
  // carries were withdrawn there (made private, deleted) and leave the boards here too.
  const covered = content.benchmarks === null ? null : new Set(content.benchmarks.map((n) => local.get(n)?.id).filter(Boolean));
  const gone = [...existing.entries()]
    .filter(([key, s]) => !seen.has(key) && (covered === null || covered.has(s.benchmarkId)))
    .map(([, s]) => s.id);
  if (gone.length) await db.importedScore.deleteMany({ where: { id: { in: gone } } });
  return { imported: created + changed, skipped, withdrawn: gone.length, unmatchedBenchmarks: [...unmatched].sort() };
}

type ImportedRow = Omit<ImportedScore, 'id' | 'createdAt' | 'updatedAt' | 'provenance' | 'arrays'> & { provenance: unknown; arrays: unknown };

/**
 * New and changed rows in a few statements (rows travel as one JSON parameter per chunk):
 * row-by-row writes cost milliseconds each, and a busy site's bundle has tens of thousands.
 */
async function upsertRows(db: Db, rows: ImportedRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = JSON.stringify(rows.slice(i, i + 5000));
    await db.$executeRaw`
      INSERT INTO "ImportedScore" (id, "siteId", "benchmarkId", "originRunId", metric, scope, value, "ciLow", "ciHigh", normalized, n,
        "modelName", "modelFamily", "subjectName", "datasetName", provenance, arrays, "originCreatedAt", "bundleId", "updatedAt")
      SELECT gen_random_uuid(), x."siteId", x."benchmarkId", x."originRunId", x.metric, x.scope, x.value, x."ciLow", x."ciHigh", x.normalized, x.n,
        x."modelName", x."modelFamily", x."subjectName", x."datasetName", x.provenance, x.arrays, x."originCreatedAt", x."bundleId", now()
      FROM jsonb_to_recordset(${chunk}::jsonb) AS x("siteId" uuid, "benchmarkId" uuid, "originRunId" text, metric text, scope text,
        value float8, "ciLow" float8, "ciHigh" float8, normalized float8, n int, "modelName" text, "modelFamily" text, "subjectName" text,
        "datasetName" text, provenance jsonb, arrays jsonb, "originCreatedAt" timestamptz, "bundleId" text)
      ON CONFLICT ("siteId", "originRunId", metric, scope) DO UPDATE SET
        "benchmarkId" = EXCLUDED."benchmarkId", value = EXCLUDED.value, "ciLow" = EXCLUDED."ciLow", "ciHigh" = EXCLUDED."ciHigh",
        normalized = EXCLUDED.normalized, n = EXCLUDED.n, "modelName" = EXCLUDED."modelName", "modelFamily" = EXCLUDED."modelFamily",
        "subjectName" = EXCLUDED."subjectName", "datasetName" = EXCLUDED."datasetName", provenance = EXCLUDED.provenance,
        arrays = EXCLUDED.arrays, "originCreatedAt" = EXCLUDED."originCreatedAt", "bundleId" = EXCLUDED."bundleId", "updatedAt" = now()`;
  }
}

function sameScore(old: ImportedScore, row: ImportedRow): boolean {
  return (
    old.benchmarkId === row.benchmarkId &&
    old.value === row.value &&
    old.ciLow === row.ciLow &&
    old.ciHigh === row.ciHigh &&
    old.normalized === row.normalized &&
    old.n === row.n &&
    old.modelName === row.modelName &&
    old.modelFamily === row.modelFamily &&
    old.subjectName === row.subjectName &&
    old.datasetName === row.datasetName &&
    old.originCreatedAt.getTime() === row.originCreatedAt.getTime() &&
    canonicalJson(old.provenance) === canonicalJson(row.provenance) &&
    canonicalJson(old.arrays) === canonicalJson(row.arrays)
  );
}
