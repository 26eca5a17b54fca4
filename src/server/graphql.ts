// Apollo Server over the SDL in src/schema. Errors leave with a stable extensions.code.
import { ApolloServer } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { DomainError, fromPrismaError } from '../errors';
import { loadTypeDefs, resolvers } from '../resolvers';
import type { Context } from '../resolvers/context';
import type { Log } from '../log';
import { DEFAULT_LIMITS, isQueryLimit, queryLimitsRule, type QueryLimits } from './limits';
import { refusalLog } from './refusal-log';
import { storableArguments } from './storable-arguments';

export function createApollo(
  log: (msg: string) => void = console.error,
  options: { limits?: QueryLimits; refusals?: Log } = {},
): ApolloServer<Context> {
  return new ApolloServer<Context>({
    typeDefs: loadTypeDefs(),
    resolvers: resolvers as any,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // The process entry points own shutdown order (HTTP, queue, database).
    stopOnTerminationSignals: false,
    validationRules: [queryLimitsRule(options.limits ?? DEFAULT_LIMITS)],
    plugins: [storableArguments(), ...(options.refusals ? [refusalLog(options.refusals)] : [])],
    formatError: (formatted, error) => formatError(formatted, error, log),
  });
}

export function formatError(formatted: GraphQLFormattedError, error: unknown, log: (msg: string) => void): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError) return { ...formatted, message: original.message, extensions: { ...original.extensions } };
  const mapped = fromPrismaError(original);
  if (mapped) return { ...formatted, message: mapped.message, extensions: { ...mapped.extensions } };
  // Apollo reports every validation failure as GRAPHQL_VALIDATION_FAILED; the shape limits get
  // their own code so scripts can tell "too big" from "malformed".
  if (isQueryLimit(formatted.extensions?.limit)) return { ...formatted, extensions: { ...formatted.extensions, code: 'QUERY_TOO_COMPLEX' } };
  const code = formatted.extensions?.code;
  // Validation and parse errors from graphql-js already carry a code and a useful message.
  if (code && code !== 'INTERNAL_SERVER_ERROR') return formatted;
  log(`internal error: ${(original as Error)?.stack ?? String(original)}`);
  return { message: 'Internal error; the server log has the details', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL' } };
}
