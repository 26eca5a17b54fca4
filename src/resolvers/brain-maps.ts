import type { Resolvers } from '../generated/graphql';
import * as maps from '../domain/brain-maps';
import type { BrainMapView } from '../domain/brain-maps';
import type { Context } from './context';

// The shown row and the subject's coordinates, read once per map however many fields need them
// (values and valuesFloat32, voxelIjk and maskBits).
const rows = new WeakMap<BrainMapView, Promise<Float32Array>>();
const coordinates = new WeakMap<BrainMapView, Promise<Int32Array>>();
const rowOf = (view: BrainMapView, ctx: Context) => {
  if (!rows.has(view)) rows.set(view, maps.readMapRow(ctx, view.source, view.subject.nVoxels, view.render.row));
  return rows.get(view)!;
};
const ijkOf = (view: BrainMapView, ctx: Context) => {
  if (!coordinates.has(view)) coordinates.set(view, maps.readVoxelIjk(ctx, view.subject, ctx.loaders));
  return coordinates.get(view)!;
};

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
    values: async (m, _a, ctx) => Array.from(await rowOf(m as unknown as BrainMapView, ctx), (v) => (Number.isFinite(v) ? v : null)),
    voxelIjk: async (m, _a, ctx) => Array.from(await ijkOf(m as unknown as BrainMapView, ctx)),
    valuesFloat32: async (m, _a, ctx) => maps.float32Bytes(await rowOf(m as unknown as BrainMapView, ctx)).toString('base64'),
    maskBits: async (m, _a, ctx) => {
      const view = m as unknown as BrainMapView;
      return Buffer.from(maps.maskBits(view.subject.spaceShape, await ijkOf(view, ctx))).toString('base64');
    },
  },
};
