import type { Resolvers } from '../generated/graphql';
import {
  exportSiteBundle,
  fingerprintOf,
  importSiteBundle,
  pullSiteBundle,
  thisSite,
  trustedSites,
  trustSite,
  untrustSite,
} from '../domain/sites';

export const siteResolvers: Resolvers = {
  Query: {
    site: (_p, _a, ctx) => thisSite(ctx),
    trustedSites: (_p, _a, ctx) => trustedSites(ctx),
  },
  Mutation: {
    exportSiteBundle: (_p, { input }, ctx) => exportSiteBundle(ctx, input ?? {}),
    importSiteBundle: (_p, { bundle }, ctx) => importSiteBundle(ctx, bundle),
    trustSite: (_p, { input }, ctx) => trustSite(ctx, input),
    untrustSite: (_p, { name }, ctx) => untrustSite(ctx, name),
    pullSiteBundle: (_p, { name }, ctx) => pullSiteBundle(ctx, name),
  },
  TrustedSite: {
    fingerprint: (s) => fingerprintOf(s.publicKey),
    importedScores: (s, _a, ctx) => ctx.db.importedScore.count({ where: { siteId: s.id } }),
    lastBundleAt: async (s, _a, ctx) =>
      (await ctx.db.siteBundleImport.findFirst({ where: { siteId: s.id }, orderBy: { bundleCreatedAt: 'desc' } }))?.bundleCreatedAt ?? null,
  },
  ScoreOrigin: {
    site: (o) => o.site.name,
    runId: (o) => o.originRunId,
    importedAt: (o) => o.updatedAt,
    arrays: (o, _a, ctx) =>
      Promise.all(
        Object.entries(o.arrays as Record<string, { sha256: string; size: number }>).map(async ([name, a]) => ({
          name,
          sha256: a.sha256,
          size: a.size,
          downloadUrl: await ctx.services.store.presignDownload(a.sha256, `${name}.npy`),
        })),
      ),
  },
  LeaderboardRow: {
    origin: (row) => row.imported ?? null,
  },
};
