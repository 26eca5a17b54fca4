// Benchmarks and their leaderboards: scores of finished runs, ranked with the tie rule in
// ./ranking, filtered and paged. A score whose run does not record its provenance never appears.
import { badInput, notFound } from '../errors';
import { Prisma, type BenchmarkKind, type Run } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { plainLookups } from './lookups';
import { runReadableSql } from '../access/readability';
import { targetLab } from './access';
import { visibleBenchmark } from './benchmarks';
import { writing } from './catalog';
import { rankRows, TIE_RULE, type Ranked } from './ranking';
import { importedFingerprint, importedRankInputs, loadImportedRows, type ImportedRowModel } from '../sites/leaderboard-rows';
import { optionalDescription, requireName, requireUuid } from './validate';

const MAX_PAGE = 100;

export async function createBenchmark(
  ctx: DomainContext,
  input: { name: string; kind: BenchmarkKind; description?: string | null; metric: string; higherIsBetter?: boolean | null; datasetId?: string | null },
) {
  targetLab(ctx.viewer);
  const name = requireName(input.name, 'name');
  const metric = requireName(input.metric, 'metric');
  if (input.datasetId) {
    const dataset = await plainLookups(ctx).dataset.load(requireUuid(input.datasetId, 'datasetId'));
    if (!dataset) throw badInput(`Dataset ${input.datasetId} does not exist or is not visible to you`, 'datasetId');
  }
  return writing(`A benchmark named ${JSON.stringify(name)}`, () =>
    ctx.db.benchmark.create({
      data: { name, kind: input.kind, description: optionalDescription(input.description, 'description'), metric, higherIsBetter: input.higherIsBetter ?? true, datasetId: input.datasetId ?? null },
    }),
  );
}

/** A leaderboard row as resolvers receive it (model and subject are resolved by id). */
export interface LeaderboardRowModel {
  rank: number;
  tied: boolean;
  rankedValue: number;
  value: number;
  ciLow: number | null;
  ciHigh: number | null;
  normalized: number | null;
  /** Null for rows imported from another site. */
  run: Run | null;
  modelId: string | null;
  subjectId: string | null;
  provenance: unknown;
  site: string;
  /** The imported score, for rows another site computed. */
  imported: ImportedRowModel | null;
  /** The layer that scored the row, for layer-sweep scores (score.extra.layer). */
  layer?: string | null;
  /** Which ceiling normalised `normalized` (score.extra.ceiling; NSD's ncsnr when unstated). */
  ceiling: 'ncsnr' | 'splitHalf' | null;
}

interface RankInput {
  id: string;
  /** The value ranked (raw or normalised) and its interval (none for normalised rankings). */
  value: number;
  /** The score itself and its CI, as shown. */
  raw: number;
  rawCiLow: number | null;
  rawCiHigh: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  normalized: number | null;
  createdAt: Date;
  /** The local run, or null for a score imported from another site (then importedId is set). */
  runId: string | null;
  importedId?: string;
  /** score.extra.layer (layer sweeps); absent for imported rows. */
  layer?: string | null;
  /** score.extra.ceiling; absent for imported rows and runs before the parameter. */
  ceiling?: string | null;
}

/**
 * Rankings by (benchmark, metric, scope, filters, viewer), reused while nothing they depend on
 * changed, so a board of 10,000 scores is not re-read and re-ranked per request. With the API's
 * change feed (src/db/change-feed.ts) an entry is valid exactly until the next committed change
 * to scores, runs, models or imports. Without one (code outside the API), a cheap fingerprint of
 * the board's scores (count, newest, sum of values; read from the Score index alone) stands in:
 * new scores show at once, changes to runs (visibility) within RANKING_TTL_MS. Bounded; the
 * oldest entry is dropped first.
 */
const rankingCache = new Map<string, { fingerprint: string; at: number; ranked: Ranked<RankInput>[] }>();
const RANKING_CACHE_SIZE = 200;
const RANKING_TTL_MS = 10_000;

function viewerKey(ctx: DomainContext): string {
  return ctx.viewer.superuser ? '*' : [...ctx.viewer.roles.keys()].sort().join(',');
}

async function rankedScores(
  ctx: DomainContext,
  key: string,
  board: { benchmarkId: string; metric: string; scope: string },
  where: Prisma.Sql,
  rankBy: 'RAW' | 'NORMALIZED',
  higherIsBetter: boolean,
  filter: NonNullable<LeaderboardArgs['filter']>,
): Promise<Ranked<RankInput>[]> {
  const fingerprint = await boardFingerprint(ctx, board);
  const cached = rankingCache.get(key);
  if (cached?.fingerprint === fingerprint && Date.now() - cached.at < RANKING_TTL_MS) return cached.ranked;
  // Ranking needs only the numbers, fetched in one statement; the page's runs are loaded after.
  const scores = await ctx.db.$queryRaw<Omit<RankInput, 'value' | 'ciLow' | 'ciHigh'>[]>`
    SELECT s.id, s.value AS raw, s."ciLow" AS "rawCiLow", s."ciHigh" AS "rawCiHigh", s.normalized, s."createdAt", s."runId",
      s.extra->>'layer' AS layer, s.extra->>'ceiling' AS ceiling
    FROM "Score" s JOIN "Run" r ON r.id = s."runId" WHERE ${where}`;
  // Scores other sites computed rank beside local ones on the benchmark of the same name and kind.
  scores.push(...(await importedRankInputs(ctx.db, board, filter, rankBy)));
  // CIs are on the raw scale; a normalised ranking compares values only (equal values tie).
  const inputs: RankInput[] = scores.map((x) =>
    rankBy === 'RAW'
      ? { ...x, value: x.raw, ciLow: x.rawCiLow, ciHigh: x.rawCiHigh }
      : { ...x, value: x.normalized as number, ciLow: null, ciHigh: null },
  );
  const ranked = rankRows(inputs.filter((x) => Number.isFinite(x.value)), higherIsBetter);
  rankingCache.delete(key);
  rankingCache.set(key, { fingerprint, at: Date.now(), ranked });
  if (rankingCache.size > RANKING_CACHE_SIZE) rankingCache.delete(rankingCache.keys().next().value!);
  return ranked;
}

async function boardFingerprint(ctx: DomainContext, board: { benchmarkId: string; metric: string; scope: string }): Promise<string> {
  const changes = ctx.changes;
  if (changes?.live) {
    await changes.sync();
    if (changes.live) return `feed:${changes.id}:${changes.version}`;
  }
  const [fp] = await ctx.db.$queryRaw<{ n: number; latest: Date | null; total: number | null }[]>`
    SELECT count(*)::int AS n, max("createdAt") AS latest, sum(value) AS total FROM "Score"
    WHERE "benchmarkId" = ${board.benchmarkId}::uuid AND metric = ${board.metric} AND scope = ${board.scope}`;
  return `${fp.n}|${fp.latest?.toISOString()}|${fp.total}|${await importedFingerprint(ctx.db, board)}`;
}

export interface LeaderboardArgs {
  benchmarkId: string;
  metric?: string | null;
  roi?: string | null;
  category?: string | null;
  rankBy?: 'RAW' | 'NORMALIZED' | null;
  filter?: { subjectId?: string | null; modelId?: string | null; modelFamily?: string | null } | null;
  first?: number | null;
  after?: string | null;
}

export async function leaderboard(ctx: DomainContext, args: LeaderboardArgs) {
  const benchmark = await visibleBenchmark(ctx, requireUuid(args.benchmarkId, 'benchmarkId'));
  if (!benchmark) throw notFound('Benchmark', args.benchmarkId);
  const metric = args.metric ?? benchmark.metric;
  const scope = [args.roi ? `roi:${args.roi}` : '', args.category ? `category:${args.category}` : ''].filter(Boolean).join('|') || 'all';
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) throw badInput(`first must be an integer between 0 and ${MAX_PAGE}`, 'first');
  const offset = args.after ? Number(Buffer.from(args.after, 'base64url').toString()) + 1 : 0;
  if (!Number.isInteger(offset) || offset < 0) throw badInput('Malformed cursor', 'after');

  const f = args.filter ?? {};
  const conditions = [
    Prisma.sql`s."benchmarkId" = ${benchmark.id}::uuid`,
    Prisma.sql`s.metric = ${metric}`,
    Prisma.sql`s.scope = ${scope}`,
    Prisma.sql`r.status = 'SUCCEEDED'`,
    // A run reaches leaderboards only when it says what produced it: a code version and at least
    // one input artifact hash.
    Prisma.sql`jsonb_typeof(r.provenance->'codeVersion') = 'string'`,
    Prisma.sql`jsonb_typeof(r.provenance->'inputs') = 'object' AND r.provenance->'inputs' <> '{}'::jsonb`,
    runReadableSql(ctx.viewer, 'r'),
  ];
  if (f.subjectId) conditions.push(Prisma.sql`r."subjectId" = ${requireUuid(f.subjectId, 'filter.subjectId')}::uuid`);
  if (f.modelId) conditions.push(Prisma.sql`r."modelId" = ${requireUuid(f.modelId, 'filter.modelId')}::uuid`);
  if (f.modelFamily) conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM "Model" m WHERE m.id = r."modelId" AND m.family = ${f.modelFamily})`);
  const rankBy = args.rankBy ?? 'RAW';
  if (rankBy === 'NORMALIZED') conditions.push(Prisma.sql`s.normalized IS NOT NULL`);
  const where = Prisma.join(conditions, ' AND ');
  const key = JSON.stringify([benchmark.id, metric, scope, rankBy, f, viewerKey(ctx)]);
  const ranked = await rankedScores(ctx, key, { benchmarkId: benchmark.id, metric, scope }, where, rankBy, benchmark.higherIsBetter, f);
  const page = ranked.slice(offset, offset + first);
  const runIds = page.flatMap((r) => (r.row.runId ? [r.row.runId] : []));
  const runs = new Map((await ctx.db.run.findMany({ where: { id: { in: runIds } } })).map((r) => [r.id, r]));
  const imported = await loadImportedRows(ctx.db, page.flatMap((r) => (r.row.importedId ? [r.row.importedId] : [])));
  const edges = page.map((r, i): { cursor: string; node: LeaderboardRowModel } => {
    const run = r.row.runId ? runs.get(r.row.runId)! : null;
    const origin = r.row.importedId ? imported.get(r.row.importedId)! : null;
    return {
      cursor: Buffer.from(String(offset + i)).toString('base64url'),
      node: {
        rank: r.rank,
        tied: r.tied,
        rankedValue: r.row.value,
        value: r.row.raw,
        ciLow: r.row.rawCiLow,
        ciHigh: r.row.rawCiHigh,
        normalized: r.row.normalized,
        run,
        modelId: run?.modelId ?? null,
        subjectId: run?.subjectId ?? null,
        provenance: run ? run.provenance : origin!.provenance,
        site: origin ? origin.site.name : ctx.services.config.site.name,
        imported: origin,
        layer: r.row.layer ?? null,
        ceiling: r.row.normalized == null ? null : r.row.ceiling === 'splitHalf' ? 'splitHalf' : 'ncsnr',
      },
    };
  });
  return {
    benchmark,
    metric,
    scope,
    rankBy,
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
