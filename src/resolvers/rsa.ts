import type { Resolvers } from '../generated/graphql';
import { rsaHeatmaps, rsaResult, submitRepresentationalSimilarity, type RsaResultModel } from '../domain/representational-similarity';

export const rsaResolvers: Resolvers = {
  Mutation: {
    submitRepresentationalSimilarity: (_p, { input }, ctx) => submitRepresentationalSimilarity(ctx, input),
  },
  Run: {
    representationalSimilarity: (r, _a, ctx) => rsaResult(ctx, r),
  },
  RepresentationalSimilarity: {
    heatmaps: (r, _a, ctx) => rsaHeatmaps(ctx, r as RsaResultModel, ctx.loaders),
  },
};
