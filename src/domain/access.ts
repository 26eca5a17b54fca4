// The single access-check point: every read and write of lab-owned objects goes through here,
// so tightening the policy never means touching resolvers.
import type { Db } from '../db/client';
import { forbidden, notFound } from '../errors';
import { Prisma } from '../generated/prisma/client';
import { requireUuid } from './validate';

export type Role = 'viewer' | 'submitter' | 'admin';

export interface Viewer {
  /** Operators of this installation (the embedded default runs as one) see and change everything. */
  superuser: boolean;
  /** The lab that writes go to when a mutation names none. */
  defaultLabId?: string;
  /** Lab memberships and the role in each. */
  roles: Map<string, Role>;
  /** The user and token a request authenticated as (absent for anonymous clients). */
  userId?: string;
  tokenId?: string;
  /**
   * Told when a lookup by id answers NOT_FOUND. Hidden and missing objects look alike to clients;
   * the log still shows who asked for what (another lab's private ids, guessed ids).
   */
  onNotFound?: (what: string, id: string) => void;
}

export interface Owned {
  labId: string;
  visibility?: 'PRIVATE' | 'SHARED' | 'PUBLIC';
  sharedWith?: string[];
  /** Runs only: false when the owning lab may not read one of the run's inputs (src/domain/run-access.ts). */
  ownerReads?: boolean;
}

export const anonymous: Viewer = { superuser: false, roles: new Map() };

export function superuser(defaultLabId?: string): Viewer {
  return { superuser: true, defaultLabId, roles: new Map() };
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

const rank: Record<Role, number> = { viewer: 0, submitter: 1, admin: 2 };

const ANONYMOUS_WRITE = 'Anonymous clients can only read public objects; send an API token as the header Authorization: Bearer <token>';

/** Throws FORBIDDEN unless the viewer holds at least `role` in the lab. */
export function assertCanWrite(viewer: Viewer, labId: string, role: Role = 'submitter'): void {
  if (viewer.superuser) return;
  if (!viewer.userId) throw forbidden(ANONYMOUS_WRITE);
  const held = viewer.roles.get(labId);
  if (held === undefined || rank[held] < rank[role])
    throw forbidden(`You need the ${role} role in lab ${labId} for this`);
}

/** Throws FORBIDDEN unless the viewer operates this installation (trusted sites, labs, users). */
export function requireOperator(viewer: Viewer): void {
  if (!viewer.superuser) throw forbidden('Only an operator of this installation may do this (use the operator token)');
}

/** Returns the object when readable; unreadable objects are reported as missing, not forbidden,
 * so private ids do not leak. */
export function visibleOrThrow<T extends Owned>(viewer: Viewer, what: string, id: string, obj: T | null | undefined): T {
  if (!obj || !canRead(viewer, obj)) {
    viewer.onNotFound?.(what, id);
    throw notFound(what, id);
  }
  return obj;
}

/** The lab a write goes to: the one named, else the viewer's default. */
export function targetLab(viewer: Viewer, labId?: string | null): string {
  if (!viewer.superuser && !viewer.userId) throw forbidden(ANONYMOUS_WRITE);
  // An operator may write to any lab, so the id is checked here rather than by membership.
  const lab = labId != null ? requireUuid(labId, 'labId') : viewer.defaultLabId;
  if (!lab) throw forbidden('Name the lab to write to (labId): this client has no default lab');
  assertCanWrite(viewer, lab);
  return lab;
}

/** Prisma `where` for rows whose access follows their dataset (subjects, stimulus sets). */
export function readableViaDataset(viewer: Viewer): Record<string, unknown> {
  return viewer.superuser ? {} : { dataset: readableWhere(viewer) };
}

/**
 * Artifacts are content-addressed bytes without a visibility of their own: a viewer may read one
 * when their lab uploaded it (or the same bytes), or when a readable object refers to it.
 */
export async function canReadArtifact(db: Db, viewer: Viewer, artifact: { id: string; labId: string | null; sharedWith: string[] }): Promise<boolean> {
  if (viewer.superuser) return true;
  if ((artifact.labId && viewer.roles.has(artifact.labId)) || artifact.sharedWith.some((lab) => viewer.roles.has(lab))) return true;
  const id = artifact.id;
  const [row] = await db.$queryRaw<{ ok: boolean }[]>`SELECT EXISTS (
      SELECT 1 FROM "Model" m WHERE m."artifactId" = ${id}::uuid AND ${readableSql(viewer, 'm')}
      UNION ALL SELECT 1 FROM "FeatureSet" f JOIN "Model" m ON m.id = f."modelId"
        WHERE f."artifactId" = ${id}::uuid AND ${readableSql(viewer, 'm')}
      UNION ALL SELECT 1 FROM "ResponseSet" rs JOIN "Subject" s ON s.id = rs."subjectId" JOIN "Dataset" d ON d.id = s."datasetId"
        WHERE ${id}::uuid IN (rs."artifactId", rs."meanArtifactId", rs."sdArtifactId", rs."noiseCeilingArtifactId") AND ${readableSql(viewer, 'd')}
      UNION ALL SELECT 1 FROM "Run" r
        WHERE ${runReadableSql(viewer, 'r')} AND EXISTS (SELECT 1 FROM jsonb_each_text(r.outputs) o WHERE o.value = ${id})
      UNION ALL SELECT 1 FROM "StimulusImage" si JOIN "Stimulus" st ON st.id = si."stimulusId" JOIN "StimulusSet" ss ON ss.id = st."stimulusSetId" JOIN "Dataset" d ON d.id = ss."datasetId"
        WHERE ${id}::uuid IN (si."artifactId", si."thumbnailArtifactId") AND ${readableSql(viewer, 'd')}
      UNION ALL SELECT 1 FROM "VqaSource" v JOIN "StimulusSet" ss ON ss.id = v."stimulusSetId" JOIN "Dataset" d ON d.id = ss."datasetId"
        WHERE v."artifactId" = ${id}::uuid AND ${readableSql(viewer, 'd')}
    ) AS ok`;
  return row?.ok ?? false;
}

/** The artifact when the viewer may read it; otherwise NOT_FOUND, as for any unreadable object. */
export async function visibleArtifactOrThrow<T extends { id: string; labId: string | null; sharedWith: string[] }>(
  db: Db,
  viewer: Viewer,
  id: string,
  artifact: T | null | undefined,
): Promise<T> {
  if (!artifact || !(await canReadArtifact(db, viewer, artifact))) {
    viewer.onNotFound?.('Artifact', id);
    throw notFound('Artifact', id);
  }
  return artifact;
}
