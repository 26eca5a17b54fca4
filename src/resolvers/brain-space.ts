import type { Resolvers } from '../generated/graphql';
import * as brain from '../domain/brain-space';

export const brainSpaceResolvers: Resolvers = {
  Mutation: {
    createSubjectFromMask: (_p, { input }, ctx) => brain.createSubjectFromMask(ctx, input) as any,
  },
  Subject: {
    space: (s) => brain.brainSpace(s as any) as any,
    voxelCoordinates: (s, _a, ctx) => ((s as any).coordinatesArtifactId ? ctx.loaders.artifact.load((s as any).coordinatesArtifactId) : null),
  },
  BrainSpace: {
    mask: (space, _a, ctx) => ((space as any).maskArtifactId ? ctx.loaders.artifact.load((space as any).maskArtifactId) : null),
  },
};
