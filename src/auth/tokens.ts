// API token secrets: `ba_<prefix>_<secret>`. The prefix finds the row; only the sha256 of the
// whole token is stored, so a leaked database does not leak usable tokens.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_PATTERN = /^ba_([0-9a-f]{12})_([A-Za-z0-9_-]{32,128})$/;

export interface TokenSecret {
  token: string;
  prefix: string;
  secretHash: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh random token (72 random bits of prefix, 256 bits of secret). */
export function newTokenSecret(): TokenSecret {
  return fromToken(`ba_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`)!;
}

/** Splits a presented token; undefined when it is not shaped like one of ours. */
export function fromToken(token: string): TokenSecret | undefined {
  const m = TOKEN_PATTERN.exec(token);
  if (!m) return undefined;
  return { token, prefix: m[1], secretHash: hashToken(token) };
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
