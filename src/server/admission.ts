// What every GraphQL request passes before it is parsed: who is asking (src/auth) and whether
// they are within their request rate. Refusals leave as GraphQL-shaped errors with an HTTP
// status, and are logged with who was refused and which limit they hit.
import type http from 'node:http';
import { authenticate } from '../auth/authenticate';
import type { TokenCache } from '../auth/token-cache';
import type { Viewer } from '../access/viewer';
import { DomainError } from '../errors';
import type { Log } from '../log';
import type { Services } from '../services';
import type { RateLimiter } from './rate-limit';

export interface Refusal {
  status: number;
  body: { errors: { message: string; extensions: Record<string, unknown> }[] };
  headers?: Record<string, string>;
}

export interface AdmissionLimits {
  requestsPerMinute: number;
  anonymousRequestsPerMinute: number;
  trustProxy?: boolean;
}

/** The client's address; behind a trusted load balancer, the first X-Forwarded-For entry. */
export function clientAddress(req: http.IncomingMessage, trustProxy = false): string {
  const forwarded = trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0].trim() : '';
  return forwarded || (req.socket.remoteAddress ?? 'unknown');
}

export async function admit(
  req: http.IncomingMessage,
  services: Services,
  limiter: RateLimiter,
  limits: AdmissionLimits,
  log: Log,
  tokens?: TokenCache,
): Promise<Viewer> {
  const ip = clientAddress(req, limits.trustProxy);
  let viewer: Viewer;
  try {
    viewer = tokens
      ? await tokens.authenticate(services.db, req.headers.authorization, services.defaultLabId)
      : await authenticate(services.db, req.headers.authorization, services.defaultLabId);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    // Failed sign-ins spend the address's anonymous allowance, which bounds token guessing: once
    // it is empty the answer is 429, so a guesser learns nothing more until the window refills.
    const decision = await limiter.take(`ip:${ip}`, limits.anonymousRequestsPerMinute);
    if (!decision.allowed) throw rateLimited(log, limits.anonymousRequestsPerMinute, 'ip', decision.retryAfterSeconds, { ip, failedAuthentication: true });
    log('warn', 'request refused', { code: err.code, reason: err.message, ip });
    throw refusal(401, err.message, { ...err.extensions }, { 'www-authenticate': 'Bearer' });
  }
  const perMinute = viewer.tokenId ? limits.requestsPerMinute : limits.anonymousRequestsPerMinute;
  const scope = viewer.tokenId ? 'token' : 'ip';
  const decision = await limiter.take(viewer.tokenId ? `token:${viewer.tokenId}` : `ip:${ip}`, perMinute);
  if (!decision.allowed) throw rateLimited(log, perMinute, scope, decision.retryAfterSeconds, { userId: viewer.userId, tokenId: viewer.tokenId, ip });
  const who = { userId: viewer.userId, tokenId: viewer.tokenId, ip };
  const onNotFound = (what: string, id: string) => log('info', 'request refused', { code: 'NOT_FOUND', reason: `${what} ${id} does not exist or is not visible to this client`, ...who });
  return { ...viewer, onNotFound };
}

function rateLimited(log: Log, perMinute: number, scope: 'token' | 'ip', retryAfterSeconds: number, who: Record<string, unknown>): Refusal {
  log('warn', 'request refused', { code: 'RATE_LIMITED', limit: perMinute, scope, ...who });
  return refusal(
    429,
    `Too many requests: this ${scope === 'token' ? 'API token' : 'address (anonymous)'} may send ${perMinute} requests per minute; retry in ${retryAfterSeconds} s`,
    { code: 'RATE_LIMITED', limit: perMinute, windowSeconds: 60, retryAfterSeconds, scope },
    { 'retry-after': String(retryAfterSeconds) },
  );
}

function refusal(status: number, message: string, extensions: Record<string, unknown>, headers?: Record<string, string>): Refusal {
  return { status, body: { errors: [{ message, extensions }] }, headers };
}
