// The run fields the command line shows, in one place.
import type { ApiClient } from './client';
import { CliError, EXIT } from './exit-codes';

export const RUN_FIELDS = `id kind status progress progressMessage attempts createdAt startedAt finishedAt error { code message details }`;

/** One run; `extra` selects more fields and may use $metric and $roi. */
export async function fetchRun(client: ApiClient, id: string, extra = '', filter: { metric?: string; roi?: string } = {}): Promise<any> {
  const declared = extra ? ', $metric: String, $roi: String' : '';
  const { run } = await client.request(`query($id: ID!${declared}) { run(id: $id) { ${RUN_FIELDS} ${extra} } }`, {
    id,
    ...(extra ? { metric: filter.metric ?? null, roi: filter.roi ?? null } : {}),
  });
  if (!run) throw new CliError(`Run ${JSON.stringify(id)} does not exist or is not visible to you`, EXIT.NOT_FOUND, 'NOT_FOUND');
  return run;
}

export const ENDED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
