import type { Resolvers } from '../generated/graphql';
import * as images from '../domain/stimulus-images';

const DOWNLOAD_TTL_S = 3600;

export const stimulusImageResolvers: Resolvers = {
  Mutation: {
    attachStimulusImage: (_p, { input }, ctx) => images.attachStimulusImage(ctx, input),
    importStimulusImages: (_p, { input }, ctx) => images.importStimulusImages(ctx, input),
  },
  // Stimuli are reached through a readable stimulus set, so their images are readable too.
  Stimulus: {
    image: (s, _a, ctx) => ctx.loaders.stimulusImage.load(s.id),
  },
  StimulusSet: {
    nImages: (s, _a, ctx) => ctx.loaders.imageCount.load(s.id),
  },
  StimulusImage: {
    artifact: async (i, _a, ctx) => (await ctx.loaders.artifact.load(i.artifactId))!,
    downloadUrl: async (i, _a, ctx) => {
      const a = (await ctx.loaders.artifact.load(i.artifactId))!;
      return ctx.services.store.presignDownload(a.sha256, a.filename || undefined, DOWNLOAD_TTL_S);
    },
    thumbnailUrl: async (i, _a, ctx) => {
      const a = i.thumbnailArtifactId ? await ctx.loaders.artifact.load(i.thumbnailArtifactId) : null;
      return a ? ctx.services.store.presignDownload(a.sha256, a.filename || undefined, DOWNLOAD_TTL_S) : null;
    },
  },
};
