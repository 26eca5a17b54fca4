import type { Resolvers } from '../generated/graphql';
import { submitEncodingIcl, testTimeScaling } from '../domain/in-context';

export const inContextResolvers: Resolvers = {
  Mutation: {
    submitEncodingIcl: (_p, { input }, ctx) => submitEncodingIcl(ctx, input),
  },
  Run: {
    testTimeScaling: (run, args, ctx) => testTimeScaling(ctx, run, args.metric ?? 'explained_variance', args.roi, ctx.loaders),
  },
};
