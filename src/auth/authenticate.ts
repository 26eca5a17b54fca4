// Turns an Authorization header into the Viewer every access check reads. No header: anonymous.
// A header that does not name a live token is refused, never downgraded to anonymous, so a
// script with an expired token fails loudly instead of silently seeing only public data.
import type { Db } from '../db/client';
import { anonymous, type Role, type Viewer } from '../access/viewer';
import { unauthenticated } from '../errors';
import { fromToken, sameHash } from './tokens';

/** lastUsedAt is a hint for humans; writing it at most once a minute keeps reads read-only. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const roleOf = (role: 'VIEWER' | 'SUBMITTER' | 'ADMIN'): Role => role.toLowerCase() as Role;

export async function authenticate(db: Db, header: string | undefined, operatorLabId: string, now = new Date()): Promise<Viewer> {
  return (await resolveToken(db, header, operatorLabId, now)).viewer;
}

/** The viewer a header names, with its token's expiry (for callers that remember the answer). */
export async function resolveToken(
  db: Db,
  header: string | undefined,
  operatorLabId: string,
  now = new Date(),
): Promise<{ viewer: Viewer; expiresAt: Date | null }> {
  if (header === undefined || header.trim() === '') return { viewer: anonymous, expiresAt: null };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthenticated("The Authorization header must read 'Bearer <token>'");
  const presented = fromToken(m[1]);
  if (!presented) throw unauthenticated('The API token is malformed; tokens look like ba_<12 hex>_<secret>. Create one with createApiToken');
  const token = await db.apiToken.findUnique({
    where: { prefix: presented.prefix },
    include: { user: { include: { memberships: { orderBy: { createdAt: 'asc' } } } } },
  });
  if (!token || !sameHash(token.secretHash, presented.secretHash))
    throw unauthenticated(`The API token ba_${presented.prefix}_… is not recognised; it may have been deleted. Create a new one with createApiToken`);
  if (token.revokedAt)
    throw unauthenticated(`The API token "${token.name}" (ba_${token.prefix}_…) was revoked at ${token.revokedAt.toISOString()}; create a new one`);
  if (token.expiresAt && token.expiresAt <= now)
    throw unauthenticated(`The API token "${token.name}" (ba_${token.prefix}_…) expired at ${token.expiresAt.toISOString()}; create a new one`);
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS)
    void db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } }).catch(() => undefined);

  const roles = new Map(token.user.memberships.map((m) => [m.labId, roleOf(m.role)] as const));
  const writable = token.user.memberships.find((m) => m.role !== 'VIEWER');
  const viewer: Viewer = {
    superuser: token.user.operator,
    defaultLabId: token.user.operator ? operatorLabId : writable?.labId,
    roles,
    userId: token.user.id,
    tokenId: token.id,
  };
  return { viewer, expiresAt: token.expiresAt };
}
