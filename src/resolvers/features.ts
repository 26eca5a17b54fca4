import type { Resolvers } from '../generated/graphql';
import * as features from '../domain/feature-extraction';

export const featureResolvers: Resolvers = {
  Mutation: {
    submitFeatureExtraction: (_p, { input }, ctx) => features.submitFeatureExtraction(ctx, input),
  },
  Model: {
    layers: (m) => (m.layers as never) ?? null,
    preprocessing: (m) => m.preprocessing ?? null,
  },
};
