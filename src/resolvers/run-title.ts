// Run { title model layer subject dataset benchmark }: resolved through the request's DataLoaders,
// so a list of runs costs one query per level (feature sets, models, subjects, datasets), not per run.
import type { Resolvers } from '../generated/graphql';
import type { Run } from '../generated/prisma/client';
import { paramRefs, runTitle } from '../domain/run-title';
import type { Context } from './context';

async function featureSetOf(r: Run, ctx: Context) {
  const { featureSetId } = paramRefs(r.params);
  return featureSetId ? ctx.loaders.featureSet.load(featureSetId) : null;
}

async function modelOf(r: Run, ctx: Context) {
  const modelId = r.modelId ?? (await featureSetOf(r, ctx))?.modelId;
  return modelId ? ctx.loaders.model.load(modelId) : null;
}

async function subjectOf(r: Run, ctx: Context) {
  let subjectId = r.subjectId;
  if (!subjectId) {
    const { responseSetId } = paramRefs(r.params);
    subjectId = responseSetId ? ((await ctx.loaders.responseSet.load(responseSetId))?.subjectId ?? null) : null;
  }
  return subjectId ? ctx.loaders.subject.load(subjectId) : null;
}

async function datasetOf(r: Run, ctx: Context) {
  const subject = await subjectOf(r, ctx);
  let datasetId = subject?.datasetId ?? paramRefs(r.params).datasetId;
  if (!datasetId) {
    const stimulusSetId = paramRefs(r.params).stimulusSetId ?? (await featureSetOf(r, ctx))?.stimulusSetId;
    datasetId = stimulusSetId ? ((await ctx.loaders.stimulusSet.load(stimulusSetId))?.datasetId ?? null) : null;
  }
  if (!datasetId && r.benchmarkId) datasetId = (await ctx.loaders.benchmark.load(r.benchmarkId))?.datasetId ?? null;
  return datasetId ? ctx.loaders.dataset.load(datasetId) : null;
}

async function layerOf(r: Run, ctx: Context) {
  const model = await modelOf(r, ctx);
  const set = await featureSetOf(r, ctx);
  return model && set?.layer ? set.layer : null;
}

export const runTitleResolvers: Resolvers = {
  Run: {
    model: (r, _a, ctx) => modelOf(r, ctx),
    subject: (r, _a, ctx) => subjectOf(r, ctx),
    dataset: (r, _a, ctx) => datasetOf(r, ctx),
    layer: (r, _a, ctx) => layerOf(r, ctx),
    benchmark: (r, _a, ctx) => (r.benchmarkId ? ctx.loaders.benchmark.load(r.benchmarkId) : null),
    title: async (r, _a, ctx) => {
      const [model, layer, subject, dataset, benchmark] = await Promise.all([
        modelOf(r, ctx),
        layerOf(r, ctx),
        subjectOf(r, ctx),
        datasetOf(r, ctx),
        r.benchmarkId ? ctx.loaders.benchmark.load(r.benchmarkId) : null,
      ]);
      return runTitle({ kind: r.kind, model: model?.name, layer, subject: subject?.name, dataset: dataset?.name, benchmark: benchmark?.name });
    },
  },
};
