// Issuing and revoking API tokens. The secret leaves the server exactly once, in the answer to
// the request that created it.
import type { Db } from '../db/client';
import { newTokenSecret, fromToken } from './tokens';

export const MAX_TOKEN_DAYS = 3650;
export const DEFAULT_TOKEN_DAYS = 90;

export async function issueToken(db: Db, userId: string, opts: { name: string; expiresAt: Date | null }) {
  const secret = newTokenSecret();
  const token = await db.apiToken.create({
    data: { userId, name: opts.name, prefix: secret.prefix, secretHash: secret.secretHash, expiresAt: opts.expiresAt },
  });
  return { token, secret: secret.token };
}

/**
 * Records a secret chosen outside the service (the operator token from the environment or the
 * data directory) so it authenticates; idempotent across restarts.
 */
export async function adoptToken(db: Db, userId: string, presented: string, name: string) {
  const parsed = fromToken(presented);
  if (!parsed) throw new Error('The operator token is malformed; expected ba_<12 hex>_<32+ characters of [A-Za-z0-9_-]>');
  return db.apiToken.upsert({
    where: { prefix: parsed.prefix },
    update: { userId, secretHash: parsed.secretHash, revokedAt: null, expiresAt: null },
    create: { userId, name, prefix: parsed.prefix, secretHash: parsed.secretHash, expiresAt: null },
  });
}
