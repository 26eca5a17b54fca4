// Exit codes are part of the command line's contract: scripts branch on them.
export const EXIT = {
  OK: 0,
  /** Unknown command or option, missing argument. */
  USAGE: 1,
  /** Bad input: a manifest, a file, an argument the server refused (BAD_USER_INPUT, CONFLICT ...). */
  INPUT: 2,
  NOT_FOUND: 3,
  /** No token, an expired or revoked token, or no right to the object. */
  AUTH: 4,
  /** The server could not be reached or failed. */
  SERVER: 5,
  /** The run ended FAILED or CANCELLED. */
  RUN_FAILED: 6,
  /** `watch --timeout` ran out before the run ended. */
  TIMEOUT: 7,
  /** The service's per-token rate limit: wait and retry. */
  RATE_LIMITED: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** GraphQL error codes (extensions.code) to exit codes; anything unlisted is a server error. */
const BY_GRAPHQL_CODE: Record<string, ExitCode> = {
  BAD_USER_INPUT: EXIT.INPUT,
  BAD_REQUEST: EXIT.INPUT,
  GRAPHQL_VALIDATION_FAILED: EXIT.INPUT,
  GRAPHQL_PARSE_FAILED: EXIT.INPUT,
  CONFLICT: EXIT.INPUT,
  PAYLOAD_TOO_LARGE: EXIT.INPUT,
  QUERY_TOO_COMPLEX: EXIT.INPUT,
  NOT_FOUND: EXIT.NOT_FOUND,
  UNAUTHENTICATED: EXIT.AUTH,
  FORBIDDEN: EXIT.AUTH,
  RATE_LIMITED: EXIT.RATE_LIMITED,
  // The job queue is down: the run is saved QUEUED; retrying with the same idempotency key is safe.
  UNAVAILABLE: EXIT.SERVER,
  // Site bundles: a bad document is an input error; a site or key not trusted is a permission error.
  BUNDLE_MALFORMED: EXIT.INPUT,
  BUNDLE_SIGNATURE_INVALID: EXIT.INPUT,
  BUNDLE_REPLAYED: EXIT.INPUT,
  UNTRUSTED_SITE: EXIT.AUTH,
  SITE_KEY_MISMATCH: EXIT.AUTH,
  SITE_UNREACHABLE: EXIT.SERVER,
};

export function exitCodeForGraphQL(code: string | undefined): ExitCode {
  return (code && BY_GRAPHQL_CODE[code]) || EXIT.SERVER;
}

/** An error the command line reports as one message and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The server's error code, when the error came from the API. */
    readonly code?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const inputError = (message: string, details?: Record<string, unknown>) => new CliError(message, EXIT.INPUT, 'BAD_USER_INPUT', details);
