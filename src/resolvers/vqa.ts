import type { Resolvers } from '../generated/graphql';
import { importVqaBenchmark, submitVqaEval, vqaInfo, vqaQuestions } from '../domain/vqa';

export const vqaResolvers: Resolvers = {
  Mutation: {
    importVqaBenchmark: (_p, { input }, ctx) => importVqaBenchmark(ctx, input),
    submitVqaEval: (_p, { input }, ctx) => submitVqaEval(ctx, input),
  },
  Benchmark: {
    vqa: (b, _a, ctx) => (b.kind === 'VQA' ? vqaInfo(ctx, b.id) : null),
    vqaQuestions: (b, args, ctx) => vqaQuestions(ctx, b.id, args, ctx.loaders),
  },
  VqaBenchmarkInfo: {
    stimulusSet: (info, _a, ctx) => ctx.loaders.stimulusSet.load(info.stimulusSetId),
    source: async (info, _a, ctx) => ((await ctx.loaders.stimulusSet.load(info.stimulusSetId)) ? ctx.loaders.artifact.load(info.artifactId) : null),
  },
};
