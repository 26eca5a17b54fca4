// The installation operator: one user who may do everything, reachable through a bootstrap
// token. Production takes the token from BRAINALIGN_ADMIN_TOKEN; the embedded default makes
// one on first start and keeps it in the data directory (0600) so restarts can print it again.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/client';
import { adoptToken } from './api-tokens';
import { newTokenSecret } from './tokens';

export const OPERATOR_NAME = 'admin';
export const OPERATOR_TOKEN_FILE = 'admin-token';

export async function ensureOperatorUser(db: Db, name = OPERATOR_NAME) {
  return db.user.upsert({ where: { name }, update: { operator: true }, create: { name, operator: true } });
}

/** Returns the operator token secret, creating it (and its file) when the data directory has none. */
export async function ensureOperatorToken(db: Db, opts: { token?: string; dataDir?: string }): Promise<string | undefined> {
  let secret = opts.token;
  if (!secret && opts.dataDir) {
    const file = path.join(opts.dataDir, OPERATOR_TOKEN_FILE);
    if (!existsSync(file)) writeFileSync(file, `${newTokenSecret().token}\n`, { mode: 0o600 });
    secret = readFileSync(file, 'utf8').trim();
  }
  if (!secret) return undefined;
  const user = await ensureOperatorUser(db);
  await adoptToken(db, user.id, secret, 'operator bootstrap');
  return secret;
}
