import type { Resolvers } from '../generated/graphql';
import * as runs from '../domain/runs';
import { orNull } from './nullable';
import { paginate } from './pagination';

export const runResolvers: Resolvers = {
  Query: {
    run: (_p, { id }, ctx) => orNull(() => runs.visibleRun(ctx, id)),
    runs: (_p, args, ctx) => paginate(ctx.db.run, runs.runsWhere(ctx, args.filter), args.first, args.after, args.newestFirst ?? false),
  },
  Mutation: {
    cancelRun: (_p, { id }, ctx) => runs.cancelRun(ctx, id),
  },
  Run: {
    error: (r) => (r.error ? (r.error as { code: string; message: string }) : null),
    outputs: async (r, _a, ctx) => {
      const entries = Object.entries((r.outputs ?? {}) as Record<string, string>);
      const artifacts = await Promise.all(entries.map(([, id]) => ctx.loaders.artifact.load(id)));
      return entries.flatMap(([name], i) => (artifacts[i] ? [{ name, artifact: artifacts[i]! }] : []));
    },
    scores: (r, args, ctx) =>
      ctx.db.score.findMany({
        where: {
          runId: r.id,
          ...(args.metric ? { metric: args.metric } : {}),
          ...(args.roi ? { roi: { name: args.roi } } : {}),
        },
        orderBy: [{ metric: 'asc' }, { scope: 'asc' }],
      }),
    lab: async (r, _a, ctx) => (await ctx.loaders.lab.load(r.labId))!,
  },
  Score: {
    roi: (s, _a, ctx) => (s.roiId ? ctx.loaders.roi.load(s.roiId) : null),
    extra: (s) => s.extra ?? {},
  },
};
