// A small fetch-based GraphQL client: one POST per operation, errors surfaced with their code.
import { getToken } from './auth';

export interface GraphQLErrorInfo {
  message: string;
  extensions?: { code?: string; field?: string; [key: string]: unknown };
}

export class ApiError extends Error {
  constructor(readonly errors: GraphQLErrorInfo[]) {
    super(errors.map((e) => e.message).join('; '));
  }
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
  /** The operation asked for a field this server's schema does not have. */
  get unknownField(): boolean {
    return this.errors.some((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && /Cannot query field|Unknown type/.test(e.message));
  }
}

export const GRAPHQL_URL = '/graphql';

export async function request<TData, TVars extends object = Record<string, never>>(query: string, variables?: TVars): Promise<TData> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(GRAPHQL_URL, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body: { data?: TData; errors?: GraphQLErrorInfo[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError([{ message: `The API answered HTTP ${res.status} without JSON` }]);
  }
  if (body.errors?.length) throw new ApiError(body.errors);
  if (!body.data) throw new ApiError([{ message: `The API answered HTTP ${res.status} without data` }]);
  return body.data;
}
