// What a viewer may read, as one rule in three forms: a check on a loaded object, a Prisma
// `where` fragment and an SQL condition. Lab-owned objects are readable by their lab, by the labs
// they are shared with, and by everyone when public.
import { Prisma } from '../generated/prisma/client';
import type { Viewer } from './viewer';

export interface Owned {
  labId: string;
  visibility?: 'PRIVATE' | 'SHARED' | 'PUBLIC';
  sharedWith?: string[];
  /** Runs only: false when the owning lab may not read one of the run's inputs (src/domain/run-access.ts). */
  ownerReads?: boolean;
}

export function canRead(viewer: Viewer, obj: Owned): boolean {
  if (viewer.superuser || obj.visibility === 'PUBLIC' || (viewer.roles.has(obj.labId) && obj.ownerReads !== false)) return true;
  return obj.visibility === 'SHARED' && (obj.sharedWith ?? []).some((lab) => viewer.roles.has(lab));
}

/** Prisma `where` fragment selecting what the viewer may read, for models with visibility. */
export function readableWhere(viewer: Viewer): Record<string, unknown> {
  if (viewer.superuser) return {};
  const labs = [...viewer.roles.keys()];
  return {
    OR: [{ visibility: 'PUBLIC' }, { labId: { in: labs } }, { visibility: 'SHARED', sharedWith: { hasSome: labs } }],
  };
}

/**
 * The same rule as readableWhere, as an SQL condition on a table aliased `alias` (with labId,
 * visibility and sharedWith columns), for the few hot queries written in SQL.
 */
export function readableSql(viewer: Viewer, alias: string): Prisma.Sql {
  if (viewer.superuser) return Prisma.sql`TRUE`;
  const labs = [...viewer.roles.keys()];
  const t = Prisma.raw(`"${alias}"`);
  return Prisma.sql`(${t}.visibility = 'PUBLIC' OR ${t}."labId" = ANY(${labs}::uuid[]) OR (${t}.visibility = 'SHARED' AND ${t}."sharedWith" && ${labs}::uuid[]))`;
}

/**
 * readableWhere for runs: their stored access is derived from every input they read
 * (src/domain/run-access.ts), which may leave even the owning lab out.
 */
export function runReadableWhere(viewer: Viewer): Record<string, unknown> {
  if (viewer.superuser) return {};
  const labs = [...viewer.roles.keys()];
  return {
    OR: [{ visibility: 'PUBLIC' }, { labId: { in: labs }, ownerReads: true }, { visibility: 'SHARED', sharedWith: { hasSome: labs } }],
  };
}

/** runReadableWhere as SQL on a "Run" table aliased `alias`. */
export function runReadableSql(viewer: Viewer, alias: string): Prisma.Sql {
  if (viewer.superuser) return Prisma.sql`TRUE`;
  const labs = [...viewer.roles.keys()];
  const t = Prisma.raw(`"${alias}"`);
  return Prisma.sql`(${t}.visibility = 'PUBLIC' OR (${t}."labId" = ANY(${labs}::uuid[]) AND ${t}."ownerReads") OR (${t}.visibility = 'SHARED' AND ${t}."sharedWith" && ${labs}::uuid[]))`;
}

/** Prisma `where` for rows whose access follows their dataset (subjects, stimulus sets). */
export function readableViaDataset(viewer: Viewer): Record<string, unknown> {
  return viewer.superuser ? {} : { dataset: readableWhere(viewer) };
}

/** Prisma `where` for rows whose access follows their subject's dataset (ROIs). */
export function readableViaSubject(viewer: Viewer): Record<string, unknown> {
  return viewer.superuser ? {} : { subject: readableViaDataset(viewer) };
}
