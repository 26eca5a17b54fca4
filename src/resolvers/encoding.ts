import type { Resolvers } from '../generated/graphql';
import { submitEncodingRidge } from '../domain/encoding';

export const encodingResolvers: Resolvers = {
  Mutation: {
    submitEncodingRidge: (_p, { input }, ctx) => submitEncodingRidge(ctx, input),
  },
};
