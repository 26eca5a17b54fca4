import type { Resolvers } from '../generated/graphql';
import { runReadableWhere } from '../access/readability';
import { layerProfile, submitLayerSweep } from '../domain/layer-sweep';
import { readParams } from '../jobs/registry';

export const layerSweepResolvers: Resolvers = {
  Mutation: {
    submitLayerSweep: (_p, { input }, ctx) => submitLayerSweep(ctx, input),
  },
  Run: {
    parent: (r, _a, ctx) => (r.parentRunId ? ctx.db.run.findFirst({ where: { AND: [{ id: r.parentRunId }, runReadableWhere(ctx.viewer)] } }) : null),
    children: async (r, _a, ctx) => {
      const children = await ctx.db.run.findMany({ where: { AND: [{ parentRunId: r.id }, runReadableWhere(ctx.viewer)] } });
      // Sweep order (the parent's params), then anything else by creation.
      const order = ((r.kind === 'LAYER_SWEEP' && readParams('LAYER_SWEEP', r.params)?.layers) || []).map((l) => l.featureSetId);
      const rank = (c: (typeof children)[number]) => {
        const i = order.indexOf((c.kind === 'ENCODING_RIDGE' && readParams('ENCODING_RIDGE', c.params)?.featureSetId) || '');
        return i < 0 ? order.length : i;
      };
      return children.sort((a, b) => rank(a) - rank(b) || a.createdAt.getTime() - b.createdAt.getTime());
    },
    layerProfile: (r, { metric }, ctx) => layerProfile(ctx, r, metric ?? 'pearson_r.mean'),
  },
  LeaderboardRow: {
    layer: (row) => row.layer ?? null,
  },
};
