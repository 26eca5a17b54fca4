// The single access-check point: every read and write of lab-owned objects goes through here,
// so tightening the policy never means touching resolvers. Who the viewer is and what it may read
// are defined below the domain (src/access); this module turns them into the domain's refusals.
import type { Db } from '../db/client';
import { canRead, readableSql, runReadableSql, type Owned } from '../access/readability';
import type { Role, Viewer } from '../access/viewer';
import { forbidden, notFound } from '../errors';
import { requireUuid } from './validate';

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
