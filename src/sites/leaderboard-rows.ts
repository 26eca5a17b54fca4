// Imported scores as leaderboard rows: ranked together with local scores on the benchmark of the
// same name and kind. They came from public bundles, so every viewer sees them; filters that name
// local objects (subjectId, modelId) leave them out, a model family matches the origin's family.
import type { Db } from '../db/client';
import type { ImportedScore } from '../generated/prisma/client';

export type ImportedRowModel = ImportedScore & { site: { name: string } };

export interface Board {
  benchmarkId: string;
  metric: string;
  scope: string;
}

export interface BoardFilter {
  subjectId?: string | null;
  modelId?: string | null;
  modelFamily?: string | null;
}

/** Changes whenever the board's imported rows do (count, newest write, sum of values). */
export async function importedFingerprint(db: Db, board: Board): Promise<string> {
  const [fp] = await db.$queryRaw<{ n: number; latest: Date | null; total: number | null }[]>`
    SELECT count(*)::int AS n, max("updatedAt") AS latest, sum(value) AS total FROM "ImportedScore"
    WHERE "benchmarkId" = ${board.benchmarkId}::uuid AND metric = ${board.metric} AND scope = ${board.scope}`;
  return `${fp.n}|${fp.latest?.toISOString()}|${fp.total}`;
}

/** The numbers ranking needs, in the shape of local scores; `importedId` marks them. */
export async function importedRankInputs(db: Db, board: Board, filter: BoardFilter, rankBy: 'RAW' | 'NORMALIZED') {
  if (filter.subjectId || filter.modelId) return [];
  const rows = await db.importedScore.findMany({
    where: {
      benchmarkId: board.benchmarkId,
      metric: board.metric,
      scope: board.scope,
      ...(filter.modelFamily ? { modelFamily: filter.modelFamily } : {}),
      ...(rankBy === 'NORMALIZED' ? { normalized: { not: null } } : {}),
    },
    select: { id: true, value: true, ciLow: true, ciHigh: true, normalized: true, originCreatedAt: true },
  });
  return rows.map((r) => ({
    id: r.id,
    raw: r.value,
    rawCiLow: r.ciLow,
    rawCiHigh: r.ciHigh,
    normalized: r.normalized,
    createdAt: r.originCreatedAt,
    runId: null,
    importedId: r.id,
  }));
}

export async function loadImportedRows(db: Db, ids: string[]): Promise<Map<string, ImportedRowModel>> {
  if (!ids.length) return new Map();
  const rows = await db.importedScore.findMany({ where: { id: { in: ids } }, include: { site: { select: { name: true } } } });
  return new Map(rows.map((r) => [r.id, r]));
}
