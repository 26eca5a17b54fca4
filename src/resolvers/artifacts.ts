import type { Resolvers } from '../generated/graphql';
import * as artifacts from '../domain/artifacts';
import { requireUuid } from '../domain/validate';

const DOWNLOAD_TTL_S = 3600;

export const artifactResolvers: Resolvers = {
  Query: {
    // Artifacts are content-addressed bytes; who may read them is decided by the objects that
    // reference them, which is where ids are handed out.
    artifact: (_p, { id }, ctx) => ctx.loaders.artifact.load(requireUuid(id, 'id')),
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
