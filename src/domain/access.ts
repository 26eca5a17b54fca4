// The single access-check point: every read and write of lab-owned objects goes through here,
// so tightening the policy never means touching resolvers.
import { forbidden, notFound } from '../errors';
import { Prisma } from '../generated/prisma/client';

export type Role = 'viewer' | 'submitter' | 'admin';

export interface Viewer {
  /** Operators of this installation (the embedded default runs as one) see and change everything. */
  superuser: boolean;
  /** The lab that writes go to when a mutation names none. */
  defaultLabId?: string;
  /** Lab memberships and the role in each. */
  roles: Map<string, Role>;
}

export interface Owned {
  labId: string;
  visibility?: 'PRIVATE' | 'SHARED' | 'PUBLIC';
  sharedWith?: string[];
}

export const anonymous: Viewer = { superuser: false, roles: new Map() };

export function superuser(defaultLabId?: string): Viewer {
  return { superuser: true, defaultLabId, roles: new Map() };
}

export function canRead(viewer: Viewer, obj: Owned): boolean {
  if (viewer.superuser || obj.visibility === 'PUBLIC' || viewer.roles.has(obj.labId)) return true;
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

const rank: Record<Role, number> = { viewer: 0, submitter: 1, admin: 2 };

/** Throws FORBIDDEN unless the viewer holds at least `role` in the lab. */
export function assertCanWrite(viewer: Viewer, labId: string, role: Role = 'submitter'): void {
  if (viewer.superuser) return;
  const held = viewer.roles.get(labId);
  if (held === undefined || rank[held] < rank[role])
    throw forbidden(`You need the ${role} role in lab ${labId} for this`);
}

/** Returns the object when readable; unreadable objects are reported as missing, not forbidden,
 * so private ids do not leak. */
export function visibleOrThrow<T extends Owned>(viewer: Viewer, what: string, id: string, obj: T | null | undefined): T {
  if (!obj || !canRead(viewer, obj)) throw notFound(what, id);
  return obj;
}

/** The lab a write goes to: the one named, else the viewer's default. */
export function targetLab(viewer: Viewer, labId?: string | null): string {
  const lab = labId ?? viewer.defaultLabId;
  if (!lab) throw forbidden('Name the lab to write to (labId): this client has no default lab');
  assertCanWrite(viewer, lab);
  return lab;
}
