import type { Resolvers } from '../generated/graphql';
import * as maps from '../domain/brain-maps';
import type { BrainMapView } from '../domain/brain-maps';

export const brainMapResolvers: Resolvers = {
  Mutation: {
    renderBrainMap: (_p, { input }, ctx) => maps.renderBrainMap(ctx, input) as any,
  },
  Run: {
    brainMapOutputs: (r, _a, ctx) => maps.runBrainMapOutputs(ctx, r as any, ctx.loaders),
    brainMap: (r, { output, row }, ctx) => maps.runBrainMap(ctx, r as any, output, row ?? 0, ctx.loaders) as any,
  },
  Artifact: {
    niftiUrl: (a, args, ctx) => maps.artifactNiftiUrl(ctx, a as any, args, ctx.loaders),
  },
  BrainMap: {
    source: (m) => (m as unknown as BrainMapView).source as any,
    subject: (m) => (m as unknown as BrainMapView).subject as any,
    row: (m) => (m as unknown as BrainMapView).render.row,
    nRows: (m) => (m as unknown as BrainMapView).nRows,
    nifti: async (m, _a, ctx) => (await ctx.loaders.artifact.load((m as unknown as BrainMapView).render.niftiArtifactId))! as any,
    niftiUrl: (m, _a, ctx) => maps.niftiUrl(ctx, m as unknown as BrainMapView, ctx.loaders),
    nVoxels: (m) => (m as unknown as BrainMapView).subject.nVoxels,
    nFinite: (m) => (m as unknown as BrainMapView).render.nFinite,
    min: (m) => (m as unknown as BrainMapView).render.min,
    max: (m) => (m as unknown as BrainMapView).render.max,
    values: async (m, _a, ctx) => {
      const view = m as unknown as BrainMapView;
      const values = await maps.readMapRow(ctx, view.source, view.subject.nVoxels, view.render.row);
      return Array.from(values, (v) => (Number.isFinite(v) ? v : null));
    },
    voxelIjk: async (m, _a, ctx) => Array.from(await maps.readVoxelIjk(ctx, (m as unknown as BrainMapView).subject, ctx.loaders)),
    valuesFloat32: async (m, _a, ctx) => {
      const view = m as unknown as BrainMapView;
      return maps.float32Bytes(await maps.readMapRow(ctx, view.source, view.subject.nVoxels, view.render.row)).toString('base64');
    },
    maskBits: async (m, _a, ctx) => {
      const { subject } = m as unknown as BrainMapView;
      return Buffer.from(maps.maskBits(subject.spaceShape, await maps.readVoxelIjk(ctx, subject, ctx.loaders))).toString('base64');
    },
  },
};
