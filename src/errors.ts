// Errors are exceptions inside the domain and GraphQL errors with stable codes at the boundary.
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'PAYLOAD_TOO_LARGE'
  | 'QUERY_TOO_COMPLEX'
  | 'RATE_LIMITED'
  | 'INTERNAL'
  // A service the request needs (the job queue) cannot be reached; retry later.
  | 'UNAVAILABLE'
  // Signed leaderboard bundles exchanged between sites (src/sites).
  | 'BUNDLE_MALFORMED'
  | 'BUNDLE_SIGNATURE_INVALID'
  | 'BUNDLE_REPLAYED'
  | 'UNTRUSTED_SITE'
  | 'SITE_KEY_MISMATCH'
  | 'SITE_UNREACHABLE';

export class DomainError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...details } });
  }
  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

/** Input a scientist can fix; `field` names the offending argument (dot path). */
export const badInput = (message: string, field?: string, details: Record<string, unknown> = {}) =>
  new DomainError('BAD_USER_INPUT', message, { ...(field ? { field } : {}), ...details });

export const notFound = (what: string, id: string) =>
  new DomainError('NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist or is not visible to you`, { id });

export const unavailable = (message: string, details: Record<string, unknown> = {}) =>
  new DomainError('UNAVAILABLE', message, details);

export const conflict = (message: string, details: Record<string, unknown> = {}) =>
  new DomainError('CONFLICT', message, details);

export const forbidden = (message: string) => new DomainError('FORBIDDEN', message);

export const unauthenticated = (message: string) => new DomainError('UNAUTHENTICATED', message);

/** Maps Prisma's known request errors onto stable codes; anything else is INTERNAL. */
export function fromPrismaError(err: unknown): DomainError | undefined {
  const e = err as { code?: string; meta?: Record<string, unknown>; name?: string };
  if (!e || typeof e.code !== 'string' || !e.code.startsWith('P')) return undefined;
  if (e.code === 'P2002') {
    const target = (e.meta?.target ?? (e.meta as any)?.driverAdapterError?.cause?.constraint?.fields) as unknown;
    return conflict(`An object with the same ${describeTarget(target)} already exists`, { constraint: target });
  }
  if (e.code === 'P2025') return new DomainError('NOT_FOUND', 'The object to change does not exist');
  if (e.code === 'P2003') return badInput('A referenced object does not exist');
  return undefined;
}

function describeTarget(target: unknown): string {
  if (Array.isArray(target)) return target.join(' + ');
  if (typeof target === 'string') return target;
  return 'unique key';
}
