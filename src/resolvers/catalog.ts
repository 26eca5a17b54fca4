import type { Resolvers } from '../generated/graphql';
import { readableWhere } from '../access/readability';
import * as catalog from '../domain/catalog';
import * as imports from '../domain/imports';
import { badInput } from '../errors';
import { requireUuid } from '../domain/validate';
import { likeLiteral } from '../text/like-pattern';
import { orNull } from './nullable';
import { paginate } from './pagination';

const need = <T>(row: T | null, what: string): T => {
  if (!row) throw new Error(`${what} vanished while the request ran`);
  return row;
};

export const catalogResolvers: Resolvers = {
  Query: {
    datasets: (_p, args, ctx) => paginate(ctx.db.dataset, catalog.datasetsWhere(ctx, args.filter), args.first, args.after),
    dataset: (_p, { id }, ctx) => orNull(() => catalog.visibleDataset(ctx, id)),
    subject: (_p, { id }, ctx) => orNull(async () => (await catalog.visibleSubject(ctx, id)).subject),
    stimulusSet: (_p, { id }, ctx) => orNull(async () => (await catalog.visibleStimulusSet(ctx, id)).stimulusSet),
    models: (_p, args, ctx) =>
      paginate(
        ctx.db.model,
        {
          AND: [
            readableWhere(ctx.viewer),
            args.filter?.kind ? { kind: args.filter.kind } : {},
            args.filter?.family ? { family: args.filter.family } : {},
            args.filter?.nameContains ? { name: { contains: likeLiteral(args.filter.nameContains), mode: 'insensitive' } } : {},
            args.filter?.labId ? { labId: requireUuid(args.filter.labId, 'filter.labId') } : {},
          ],
        },
        args.first,
        args.after,
      ),
    model: (_p, { id }, ctx) => orNull(() => catalog.visibleModel(ctx, id)),
    featureSet: (_p, { id }, ctx) =>
      orNull(async () => {
        const set = await ctx.db.featureSet.findUnique({ where: { id } });
        if (!set) return null;
        await catalog.visibleModel(ctx, set.modelId);
        return set;
      }),
    responseSet: (_p, { id }, ctx) =>
      orNull(async () => {
        const set = await ctx.db.responseSet.findUnique({ where: { id } });
        if (!set) return null;
        await catalog.visibleSubject(ctx, set.subjectId);
        return set;
      }),
  },
  Mutation: {
    createDataset: (_p, { input }, ctx) => catalog.createDataset(ctx, input),
    createSubject: (_p, { input }, ctx) => catalog.createSubject(ctx, input),
    createStimulusSet: (_p, { input }, ctx) => catalog.createStimulusSet(ctx, input),
    registerModel: (_p, { input }, ctx) => catalog.registerModel(ctx, input),
    importFeatureSet: (_p, { input }, ctx) => imports.importFeatureSet(ctx, input),
    importResponseSet: (_p, { input }, ctx) => imports.importResponseSet(ctx, input),
  },
  Lab: {},
  Dataset: {
    lab: async (d, _a, ctx) => need(await ctx.loaders.lab.load(d.labId), 'Lab'),
    subjects: (d, _a, ctx) => ctx.loaders.subjectsByDataset.load(d.id),
    stimulusSets: (d, _a, ctx) => ctx.loaders.stimulusSetsByDataset.load(d.id),
  },
  Subject: {
    dataset: async (s, _a, ctx) => need(await ctx.loaders.dataset.load(s.datasetId), 'Dataset'),
    rois: (s, _a, ctx) => ctx.loaders.roisBySubject.load(s.id),
    responseSets: (s, _a, ctx) => ctx.loaders.responseSetsBySubject.load(s.id),
  },
  Roi: {
    nVoxels: (r) => r.voxelIndices.length,
    subject: async (r, _a, ctx) => need(await ctx.loaders.subject.load(r.subjectId), 'Subject'),
  },
  StimulusSet: {
    dataset: async (s, _a, ctx) => need(await ctx.loaders.dataset.load(s.datasetId), 'Dataset'),
    nStimuli: (s, _a, ctx) => ctx.loaders.stimulusCount.load(s.id),
    stimuli: async (s, args, ctx) => {
      const first = args.first ?? 100;
      if (first < 0 || first > 1000) throw badInput('first must be between 0 and 1000', 'first');
      // Stimuli page in row order (position), which is what arrays over the set follow.
      const after = args.after ? Number(Buffer.from(args.after, 'base64url').toString()) : -1;
      if (!Number.isInteger(after)) throw badInput('Malformed cursor', 'after');
      const where = { stimulusSetId: s.id, ...(args.concept ? { concepts: { has: args.concept } } : {}) };
      const [rows, totalCount] = await Promise.all([
        ctx.db.stimulus.findMany({ where: { ...where, position: { gt: after } }, orderBy: { position: 'asc' }, take: first + 1 }),
        ctx.db.stimulus.count({ where }),
      ]);
      const edges = rows.slice(0, first).map((node) => ({ node, cursor: Buffer.from(String(node.position)).toString('base64url') }));
      return {
        edges,
        totalCount,
        pageInfo: { hasNextPage: rows.length > first, hasPreviousPage: after >= 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
      };
    },
  },
  Model: {
    lab: async (m, _a, ctx) => need(await ctx.loaders.lab.load(m.labId), 'Lab'),
    artifact: (m, _a, ctx) => (m.artifactId ? ctx.loaders.artifact.load(m.artifactId) : null),
    backbone: (m, _a, ctx) => (m.backboneId ? ctx.loaders.model.load(m.backboneId) : null),
    featureSets: (m, _a, ctx) => ctx.loaders.featureSetsByModel.load(m.id),
  },
  FeatureSet: {
    model: async (f, _a, ctx) => need(await ctx.loaders.model.load(f.modelId), 'Model'),
    stimulusSet: (f, _a, ctx) => ctx.loaders.stimulusSet.load(f.stimulusSetId),
    artifact: (f, _a, ctx) => (f.artifactId ? ctx.loaders.artifact.load(f.artifactId) : null),
  },
  ResponseSet: {
    subject: async (r, _a, ctx) => need(await ctx.loaders.subject.load(r.subjectId), 'Subject'),
    stimulusSet: async (r, _a, ctx) => need(await ctx.loaders.stimulusSet.load(r.stimulusSetId), 'Stimulus set'),
    artifact: (r, _a, ctx) => (r.artifactId ? ctx.loaders.artifact.load(r.artifactId) : null),
    voxelMean: (r, _a, ctx) => (r.meanArtifactId ? ctx.loaders.artifact.load(r.meanArtifactId) : null),
    voxelSd: (r, _a, ctx) => (r.sdArtifactId ? ctx.loaders.artifact.load(r.sdArtifactId) : null),
    noiseCeiling: (r, _a, ctx) => (r.noiseCeilingArtifactId ? ctx.loaders.artifact.load(r.noiseCeilingArtifactId) : null),
    splitHalf: (r, _a, ctx) => (r.splitHalfArtifactId ? ctx.loaders.artifact.load(r.splitHalfArtifactId) : null),
    ncsnr: (r, _a, ctx) => ((r as any).ncsnrArtifactId ? ctx.loaders.artifact.load((r as any).ncsnrArtifactId) : null),
  },
};
