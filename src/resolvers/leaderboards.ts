import type { Resolvers } from '../generated/graphql';
import { createBenchmark, leaderboard } from '../domain/leaderboards';
import { visibleBenchmark, visibleBenchmarks } from '../domain/benchmarks';

export const leaderboardResolvers: Resolvers = {
  Query: {
    benchmarks: (_p, { kind }, ctx) => visibleBenchmarks(ctx, kind),
    benchmark: (_p, { id }, ctx) => visibleBenchmark(ctx, id),
    leaderboard: (_p, args, ctx) => leaderboard(ctx, args),
  },
  Mutation: {
    createBenchmark: (_p, { input }, ctx) => createBenchmark(ctx, input),
  },
  Benchmark: {
    dataset: (b, _a, ctx) => (b.datasetId ? ctx.loaders.dataset.load(b.datasetId) : null),
  },
  LeaderboardRow: {
    model: (row, _a, ctx) => (row.modelId ? ctx.loaders.model.load(row.modelId) : null),
    subject: (row, _a, ctx) => (row.subjectId ? ctx.loaders.subject.load(row.subjectId) : null),
  },
};
