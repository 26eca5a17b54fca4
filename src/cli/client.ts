// A GraphQL client that always sends the configured token and turns errors into exit codes.
import type { CliConfig } from './config';
import { CliError, EXIT, exitCodeForGraphQL } from './exit-codes';

export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; [k: string]: unknown };
}

export class ApiClient {
  constructor(readonly config: CliConfig) {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (this.config.token) h.authorization = `Bearer ${this.config.token}`;
    return h;
  }

  /** Posts one operation; returns { data, errors } as the server sent them. */
  async raw<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: GraphQLErrorBody[] }> {
    let res: Response;
    try {
      res = await fetch(this.config.url, { method: 'POST', headers: this.headers(), body: JSON.stringify({ query, variables }) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`Cannot reach ${this.config.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, EXIT.SERVER, 'NETWORK');
    }
    const text = await res.text();
    let body: { data?: T; errors?: GraphQLErrorBody[] };
    try {
      body = JSON.parse(text);
    } catch {
      const code = res.status === 401 ? 'UNAUTHENTICATED' : res.status === 403 ? 'FORBIDDEN' : res.status === 413 ? 'PAYLOAD_TOO_LARGE' : undefined;
      throw new CliError(`${this.config.url} answered HTTP ${res.status} without GraphQL: ${text.slice(0, 200)}`, code ? exitCodeForGraphQL(code) : EXIT.SERVER, code);
    }
    return body;
  }

  /** Posts one operation; throws a CliError (with the server's code and message) on any error. */
  async request<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const body = await this.raw<T>(query, variables);
    if (body.errors?.length) throw graphQLFailure(body.errors);
    if (!body.data) throw new CliError('The server answered without data', EXIT.SERVER);
    return body.data;
  }
}

export function graphQLFailure(errors: GraphQLErrorBody[]): CliError {
  const first = errors[0];
  const code = first.extensions?.code;
  const message = errors
    .map((e) => {
      const ext = e.extensions ?? {};
      const where = ext.field ? ` (field ${ext.field})` : '';
      const limit = ext.limit !== undefined ? ` [limit ${JSON.stringify(ext.limit)}${ext.max !== undefined ? `, max ${ext.max}` : ''}]` : '';
      const lines = Array.isArray(ext.errors)
        ? '\n' + (ext.errors as { line?: number; reason?: string }[]).slice(0, 20).map((l) => `  line ${l.line}: ${l.reason}`).join('\n')
        : '';
      return `${ext.code ?? 'ERROR'}: ${e.message}${where}${limit}${lines}`;
    })
    .join('\n');
  return new CliError(message, exitCodeForGraphQL(code), code, first.extensions);
}
