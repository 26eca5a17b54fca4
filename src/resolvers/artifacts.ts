import type { Resolvers } from '../generated/graphql';
import * as artifacts from '../domain/artifacts';
import { visibleArtifactOrThrow } from '../domain/access';
import { requireUuid } from '../domain/validate';
import { orNull } from './nullable';

const DOWNLOAD_TTL_S = 3600;

export const artifactResolvers: Resolvers = {
  Query: {
    // Artifacts are content-addressed bytes; who may read them is decided by the objects that
    // reference them (src/domain/access.ts canReadArtifact). Nested artifact fields are reached
    // through a readable object already.
    artifact: (_p, { id }, ctx) =>
      orNull(async () => visibleArtifactOrThrow(ctx.db, ctx.viewer, id, await ctx.loaders.artifact.load(requireUuid(id, 'id')))),
  },
  Mutation: {
    createArtifactUpload: (_p, { input }, ctx) => artifacts.createUpload(ctx, input),
    finalizeArtifactUpload: (_p, { input }, ctx) => artifacts.finalizeUpload(ctx, input),
  },
  Artifact: {
    size: (a) => a.size.toString(),
    downloadUrl: (a, _args, ctx) => ctx.services.store.presignDownload(a.sha256, a.filename || undefined, DOWNLOAD_TTL_S),
  },
};
