// Sites: this deployment's identity, the sites it trusts, and the signed leaderboard bundles they
// exchange. Trust changes and imports are operator-only; exports carry only public data.
import { badInput, conflict, DomainError, notFound } from '../errors';
import { jsonLog } from '../log';
import type { DomainContext } from './context';
import { buildBundleContent, signBundle } from '../sites/export';
import { keyFingerprint, publicKeyFromRaw } from '../sites/ed25519';
import { siteIdentity } from '../sites/identity';
import { importBundle, type ImportResult } from '../sites/import';
import { fetchBundle } from '../sites/pull';
import { bundleMalformed } from '../sites/errors';
import { announceImportedScoresChanged } from '../sites/notify';
import { requireOperator } from './access';
import { requireUuid } from './validate';

const SITE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export async function thisSite(ctx: DomainContext) {
  const id = await siteIdentity(ctx.services);
  return { name: id.name, url: id.url, publicKey: id.publicKey, fingerprint: id.fingerprint };
}

export function trustedSites(ctx: DomainContext) {
  requireOperator(ctx.viewer);
  return ctx.db.trustedSite.findMany({ orderBy: { name: 'asc' } });
}

export async function trustSite(ctx: DomainContext, input: { name: string; publicKey: string; url?: string | null }) {
  requireOperator(ctx.viewer);
  const name = input.name.trim();
  if (!SITE_NAME_RE.test(name)) throw badInput('name must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit', 'name');
  if (name === ctx.services.config.site.name) throw badInput(`${JSON.stringify(name)} is this site's own name`, 'name');
  const publicKey = input.publicKey.trim();
  if (!publicKeyFromRaw(publicKey))
    throw badInput("publicKey must be the site's raw Ed25519 public key in base64 (44 characters), as its `site { publicKey }` query shows", 'publicKey');
  const url = (input.url ?? '').trim().replace(/\/+$/, '');
  if (url) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) throw badInput('url must be an absolute http(s) URL such as https://brainalign.example.org', 'url');
  }
  // Trusting again updates the record (a new URL, or a key the site rotated to).
  return ctx.db.trustedSite.upsert({ where: { name }, create: { name, publicKey, url }, update: { publicKey, url } });
}

/** Removes the site and every score imported from it. */
export async function untrustSite(ctx: DomainContext, name: string): Promise<boolean> {
  requireOperator(ctx.viewer);
  return ctx.db.$transaction(async (tx) => {
    const removed = await tx.trustedSite.deleteMany({ where: { name } });
    if (!removed.count) throw notFound('Trusted site', name);
    await announceImportedScoresChanged(tx);
    return true;
  });
}

export async function exportSiteBundle(ctx: DomainContext, input: { benchmarkIds?: string[] | null; includeArrays?: boolean | null }) {
  let benchmarkIds: string[] | null = null;
  if (input.benchmarkIds) {
    benchmarkIds = input.benchmarkIds.map((id, i) => requireUuid(id, `input.benchmarkIds.${i}`));
    const found = new Set((await ctx.db.benchmark.findMany({ where: { id: { in: benchmarkIds } }, select: { id: true } })).map((b) => b.id));
    benchmarkIds.forEach((id, i) => {
      if (!found.has(id)) throw badInput(`Benchmark ${id} does not exist`, `input.benchmarkIds.${i}`);
    });
  }
  const identity = await siteIdentity(ctx.services);
  const bundle = signBundle(identity, await buildBundleContent(ctx.services, identity, { benchmarkIds, includeArrays: input.includeArrays }));
  return bundle;
}

export function importSiteBundle(ctx: DomainContext, bundle: unknown): Promise<ImportResult> {
  requireOperator(ctx.viewer);
  return logged(ctx, 'import', () => importBundle(ctx.services, parseIfText(bundle)));
}

export async function pullSiteBundle(ctx: DomainContext, name: string): Promise<ImportResult> {
  requireOperator(ctx.viewer);
  const site = await ctx.db.trustedSite.findUnique({ where: { name } });
  if (!site) throw notFound('Trusted site', name);
  return logged(ctx, 'pull', async () => {
    const bundle = await fetchBundle(site);
    const claimed = (bundle as { content?: { site?: { name?: unknown } } })?.content?.site?.name;
    if (claimed !== undefined && claimed !== site.name)
      throw conflict(`${site.url} served a bundle of site ${JSON.stringify(claimed)}, not ${JSON.stringify(site.name)}; check the URL recorded for it`);
    return importBundle(ctx.services, bundle);
  });
}

/** Every bundle accepted or refused leaves a line in the API log: forged or replayed bundles are worth an operator's look. */
async function logged(ctx: DomainContext, via: 'import' | 'pull', work: () => Promise<ImportResult>): Promise<ImportResult> {
  const log = jsonLog(ctx.services.config.logLevel, { component: 'sites', via, userId: ctx.viewer.userId ?? null });
  try {
    const result = await work();
    log('info', 'bundle imported', { ...result });
    return result;
  } catch (err) {
    if (err instanceof DomainError) log('warn', 'bundle refused', { code: err.code, reason: err.message, ...pick(err.extensions, ['site', 'url', 'field']) });
    throw err;
  }
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/** A bundle may arrive as the JSON object or as its text (a file read by a script). */
function parseIfText(bundle: unknown): unknown {
  if (typeof bundle !== 'string') return bundle;
  try {
    return JSON.parse(bundle);
  } catch (err) {
    throw bundleMalformed(`The bundle is not JSON: ${(err as Error).message}`, 'bundle');
  }
}

export function fingerprintOf(publicKey: string): string {
  return keyFingerprint(publicKey);
}

