import type { Resolvers } from '../generated/graphql';
import { importResponseSessions } from '../domain/response-sessions';

export const responseSessionResolvers: Resolvers = {
  Mutation: {
    importResponseSessions: (_p, { input }, ctx) => importResponseSessions(ctx, input) as any,
  },
};
