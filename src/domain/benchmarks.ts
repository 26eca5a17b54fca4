// Who may see a benchmark: it follows the data it is about. A benchmark on a dataset (and a VQA
// benchmark, on the dataset of its questions' images) is readable by those who may read that
// dataset; its name, description and derived metadata (VQA categories and counts) are hidden from
// everyone else, as for any unreadable object. Benchmarks about no dataset are global.
import type { Benchmark, BenchmarkKind } from '../generated/prisma/client';
import { Prisma } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { readableSql } from '../access/readability';
import { requireUuid } from './validate';

function readable(ctx: DomainContext): Prisma.Sql {
  return Prisma.sql`(b."datasetId" IS NULL OR EXISTS (SELECT 1 FROM "Dataset" d WHERE d.id = b."datasetId" AND ${readableSql(ctx.viewer, 'd')}))
    AND NOT EXISTS (SELECT 1 FROM "VqaSource" v JOIN "StimulusSet" ss ON ss.id = v."stimulusSetId" JOIN "Dataset" d ON d.id = ss."datasetId"
      WHERE v."benchmarkId" = b.id AND NOT ${readableSql(ctx.viewer, 'd')})`;
}

/** Ids among `ids` (or all) of the benchmarks the viewer may read. */
async function readableIds(ctx: DomainContext, ids?: string[]): Promise<Set<string>> {
  const only = ids ? Prisma.sql`b.id = ANY(${ids}::uuid[]) AND` : Prisma.empty;
  const rows = await ctx.db.$queryRaw<{ id: string }[]>`SELECT b.id FROM "Benchmark" b WHERE ${only} ${readable(ctx)}`;
  return new Set(rows.map((r) => r.id));
}

export async function visibleBenchmarks(ctx: DomainContext, kind?: BenchmarkKind | null): Promise<Benchmark[]> {
  const all = await ctx.db.benchmark.findMany({ where: kind ? { kind } : {}, orderBy: { name: 'asc' } });
  if (ctx.viewer.superuser) return all;
  const ok = await readableIds(ctx, all.map((b) => b.id));
  return all.filter((b) => ok.has(b.id));
}

/** The benchmark when it exists and the viewer may read it; otherwise null (hidden and missing look alike). */
export async function visibleBenchmark(ctx: DomainContext, id: string): Promise<Benchmark | null> {
  const benchmark = await ctx.db.benchmark.findUnique({ where: { id: requireUuid(id, 'id') } });
  if (!benchmark || ctx.viewer.superuser) return benchmark;
  if ((await readableIds(ctx, [benchmark.id])).has(benchmark.id)) return benchmark;
  ctx.viewer.onNotFound?.('Benchmark', id);
  return null;
}
