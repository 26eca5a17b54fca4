import type { Resolvers } from '../generated/graphql';
import { readableWhere } from '../access/readability';
import { causalTestResult, conceptQueries, createConceptQuery, submitCausalTest, visibleConceptQuery } from '../domain/causal';
import type { Context } from './context';
import { orNull } from './nullable';

/** Stimuli of a set at the given positions, in that order (batched over every parent in the request). */
async function atPositions(ctx: Context, stimulusSetId: string, positions: number[]) {
  const rows = await Promise.all(positions.map((p) => ctx.loaders.stimulusAt.load(`${stimulusSetId}#${p}`)));
  return rows.filter((r) => r !== null);
}

export const causalResolvers: Resolvers = {
  Query: {
    conceptQuery: (_p, { id }, ctx) => orNull(() => visibleConceptQuery(ctx, id)),
    conceptQueries: (_p, { datasetId, concept }, ctx) => conceptQueries(ctx, datasetId, concept),
    causalTestResult: (_p, { runId }, ctx) => orNull(() => causalTestResult(ctx, runId)),
  },
  Mutation: {
    createConceptQuery: (_p, { input }, ctx) => createConceptQuery(ctx, input),
    submitCausalTest: (_p, { input }, ctx) => submitCausalTest(ctx, input),
  },
  ConceptQuery: {
    dataset: async (q, _a, ctx) => (await ctx.loaders.dataset.load(q.datasetId))!,
    stimulusSet: async (q, _a, ctx) => (await ctx.loaders.stimulusSet.load(q.stimulusSetId))!,
    positives: (q, _a, ctx) => atPositions(ctx, q.stimulusSetId, q.positivePositions),
    pairs: async (q, _a, ctx) => {
      const [pos, cf] = await Promise.all([atPositions(ctx, q.stimulusSetId, q.positivePositions), atPositions(ctx, q.stimulusSetId, q.counterfactualPositions)]);
      return pos.map((positive, i) => ({ positive, counterfactual: cf[i] }));
    },
    distractorGroups: (q, _a, ctx) => ctx.loaders.distractorGroupsByQuery.load(q.id),
    baseline: (q, _a, ctx) => atPositions(ctx, q.stimulusSetId, q.baselinePositions),
    featureSets: (q, _a, ctx) => ctx.db.featureSet.findMany({ where: { stimulusSetId: q.stimulusSetId, model: readableWhere(ctx.viewer) }, orderBy: { createdAt: 'asc' } }),
  },
  DistractorGroup: {
    stimuli: async (g, _a, ctx) => {
      const q = await ctx.loaders.conceptQuery.load(g.conceptQueryId);
      return q ? atPositions(ctx, q.stimulusSetId, g.positions) : [];
    },
  },
  CausalTestResult: {
    conceptQuery: (r, _a, ctx) => orNull(() => visibleConceptQuery(ctx, r.conceptQueryId)),
    designFile: (r, _a, ctx) => (r.designFileId ? ctx.loaders.artifact.load(r.designFileId) : null),
  },
};
