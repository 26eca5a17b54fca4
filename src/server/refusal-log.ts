// Logs every refused operation (no access, no role, too complex) with who asked, so an operator
// can see probing or a misconfigured script in the API log.
import type { ApolloServerPlugin } from '@apollo/server';
import type { DomainContext } from '../domain/context';
import type { Log } from '../log';
import { isQueryLimit } from './limits';

const REFUSALS = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'QUERY_TOO_COMPLEX']);

export function refusalLog(log: Log): ApolloServerPlugin<DomainContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors, operationName }) {
          for (const error of errors) {
            const ext = (error.extensions ?? {}) as Record<string, unknown>;
            const code = isQueryLimit(ext.limit) ? 'QUERY_TOO_COMPLEX' : String(ext.code ?? '');
            if (!REFUSALS.has(code)) continue;
            const { viewer } = contextValue;
            log('warn', 'request refused', {
              code,
              reason: error.message,
              ...(ext.limit !== undefined ? { limit: ext.limit, max: ext.max } : {}),
              operationName: operationName ?? null,
              path: error.path?.join('.') ?? null,
              userId: viewer?.userId ?? null,
              tokenId: viewer?.tokenId ?? null,
              operator: viewer?.superuser ?? false,
            });
          }
        },
      };
    },
  };
}
