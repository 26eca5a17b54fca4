// Benchmarks and their leaderboards: scores of finished runs, ranked with the tie rule in
// ./ranking, filtered and paged. A score whose run does not record its provenance never appears.
import { badInput, notFound } from '../errors';
import type { BenchmarkKind, Prisma, Run } from '../generated/prisma/client';
import type { Context } from '../resolvers/context';
import { readableWhere, targetLab } from './access';
import { writing } from './catalog';
import { rankRows, TIE_RULE } from './ranking';
import { requireName, requireUuid } from './validate';

/** Until sites exchange results, every score on a leaderboard was computed here. */
export const LOCAL_SITE = 'local';
const MAX_PAGE = 100;

export async function createBenchmark(
  ctx: Context,
  input: { name: string; kind: BenchmarkKind; description?: string | null; metric: string; higherIsBetter?: boolean | null; datasetId?: string | null },
) {
  targetLab(ctx.viewer);
  const name = requireName(input.name, 'name');
  const metric = requireName(input.metric, 'metric');
  if (input.datasetId) {
    const dataset = await ctx.db.dataset.findUnique({ where: { id: requireUuid(input.datasetId, 'datasetId') } });
    if (!dataset) throw badInput(`Dataset ${input.datasetId} does not exist`, 'datasetId');
  }
  return writing(`A benchmark named ${JSON.stringify(name)}`, () =>
    ctx.db.benchmark.create({
      data: { name, kind: input.kind, description: input.description ?? '', metric, higherIsBetter: input.higherIsBetter ?? true, datasetId: input.datasetId ?? null },
    }),
  );
}

/** A leaderboard row as resolvers receive it (model and subject are resolved by id). */
export interface LeaderboardRowModel {
  rank: number;
  tied: boolean;
  value: number;
  ciLow: number | null;
  ciHigh: number | null;
  normalized: number | null;
  run: Run;
  modelId: string | null;
  subjectId: string | null;
  provenance: unknown;
  site: string;
}

export interface LeaderboardArgs {
  benchmarkId: string;
  metric?: string | null;
  roi?: string | null;
  filter?: { subjectId?: string | null; modelId?: string | null; modelFamily?: string | null } | null;
  first?: number | null;
  after?: string | null;
}

/** A run shows on leaderboards only when it says what produced it. */
function hasProvenance(provenance: unknown): boolean {
  const p = provenance as { inputs?: Record<string, unknown>; codeVersion?: unknown } | null;
  return Boolean(p && p.codeVersion && p.inputs && Object.keys(p.inputs).length > 0);
}

export async function leaderboard(ctx: Context, args: LeaderboardArgs) {
  const benchmark = await ctx.db.benchmark.findUnique({ where: { id: requireUuid(args.benchmarkId, 'benchmarkId') } });
  if (!benchmark) throw notFound('Benchmark', args.benchmarkId);
  const metric = args.metric ?? benchmark.metric;
  const scope = args.roi ? `roi:${args.roi}` : 'all';
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) throw badInput(`first must be an integer between 0 and ${MAX_PAGE}`, 'first');
  const offset = args.after ? Number(Buffer.from(args.after, 'base64url').toString()) + 1 : 0;
  if (!Number.isInteger(offset) || offset < 0) throw badInput('Malformed cursor', 'after');

  const f = args.filter ?? {};
  const runWhere: Prisma.RunWhereInput = {
    AND: [
      readableWhere(ctx.viewer) as Prisma.RunWhereInput,
      { status: 'SUCCEEDED', benchmarkId: benchmark.id },
      f.subjectId ? { subjectId: requireUuid(f.subjectId, 'filter.subjectId') } : {},
      f.modelId ? { modelId: requireUuid(f.modelId, 'filter.modelId') } : {},
      f.modelFamily ? { model: { family: f.modelFamily } } : {},
    ],
  };
  const scores = await ctx.db.score.findMany({
    where: { benchmarkId: benchmark.id, metric, scope, run: runWhere },
    include: { run: true },
  });
  const ranked = rankRows(
    scores.filter((s) => hasProvenance(s.run.provenance) && Number.isFinite(s.value)),
    benchmark.higherIsBetter,
  );
  const page = ranked.slice(offset, offset + first);
  const edges = page.map((r, i): { cursor: string; node: LeaderboardRowModel } => ({
    cursor: Buffer.from(String(offset + i)).toString('base64url'),
    node: {
      rank: r.rank,
      tied: r.tied,
      value: r.row.value,
      ciLow: r.row.ciLow,
      ciHigh: r.row.ciHigh,
      normalized: r.row.normalized,
      run: r.row.run,
      modelId: r.row.run.modelId,
      subjectId: r.row.run.subjectId,
      provenance: r.row.run.provenance,
      site: LOCAL_SITE,
    },
  }));
  return {
    benchmark,
    metric,
    scope,
    tieRule: TIE_RULE,
    edges,
    totalCount: ranked.length,
    pageInfo: {
      hasNextPage: offset + first < ranked.length,
      hasPreviousPage: offset > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
