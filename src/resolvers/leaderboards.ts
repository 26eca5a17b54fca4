import type { Resolvers } from '../generated/graphql';
import { createBenchmark, leaderboard } from '../domain/leaderboards';
import { requireUuid } from '../domain/validate';

export const leaderboardResolvers: Resolvers = {
  Query: {
    benchmarks: (_p, { kind }, ctx) => ctx.db.benchmark.findMany({ where: kind ? { kind } : {}, orderBy: { name: 'asc' } }),
    benchmark: (_p, { id }, ctx) => ctx.db.benchmark.findUnique({ where: { id: requireUuid(id, 'id') } }),
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
