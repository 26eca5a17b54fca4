// `brainalign runs`: the newest runs the client may see, named by what they compare, optionally
// filtered by kind, status, model, subject and dataset (names as the catalog spells them, or ids).
import { CatalogLookup, missing } from '../catalog-lookup';
import type { CommandContext } from '../context';
import { EXIT, inputError } from '../exit-codes';
import { emit } from '../io';
import { RUN_FIELDS } from '../runs-query';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ListRunsOptions {
  kind?: string;
  status?: string;
  first?: string;
  model?: string;
  subject?: string;
  dataset?: string;
}

export async function listRuns(ctx: CommandContext, options: ListRunsOptions): Promise<number> {
  const first = options.first === undefined ? 20 : Number(options.first);
  if (!Number.isInteger(first) || first < 1) throw inputError(`--first must be a positive whole number (got ${options.first})`);
  const client = await ctx.client();
  const lookup = new CatalogLookup(client);
  const filter: Record<string, string> = {
    ...(options.kind ? { kind: options.kind.toUpperCase() } : {}),
    ...(options.status ? { status: options.status.toUpperCase() } : {}),
  };
  if (options.model) filter.modelId = UUID.test(options.model) ? options.model : ((await lookup.model(options.model))?.id ?? fail(missing('model', options.model)));
  let dataset = null;
  if (options.dataset) {
    dataset = UUID.test(options.dataset) ? null : ((await lookup.dataset(options.dataset)) ?? fail(missing('dataset', options.dataset)));
    filter.datasetId = dataset?.id ?? options.dataset;
  }
  if (options.subject) {
    if (UUID.test(options.subject)) filter.subjectId = options.subject;
    else if (!dataset) throw inputError(`--subject ${options.subject}: subject names are unique within a dataset; give --dataset too (or the subject's id)`);
    else filter.subjectId = dataset.subjects.find((s) => s.name === options.subject)?.id ?? fail(missing('subject', options.subject, ` in dataset ${dataset.name}`));
  }
  const { runs } = await client.request(
    `query($first: Int, $filter: RunFilter) { runs(first: $first, filter: $filter, newestFirst: true) { totalCount edges { node { ${RUN_FIELDS} title layer model { id name } subject { id name } dataset { id name } } } } }`,
    { first, filter },
  );
  const list = runs.edges.map((e: any) => e.node);
  const cell = (v: string | null | undefined, width: number) => (v ?? '–').slice(0, width).padEnd(width);
  emit(ctx.io, ctx.opts, { totalCount: runs.totalCount, runs: list }, () =>
    [
      `${'ID'.padEnd(36)}  ${'KIND'.padEnd(17)}  ${'STATUS'.padEnd(9)}  ${'MODEL'.padEnd(20)}  ${'SUBJECT'.padEnd(12)}  ${'DATASET'.padEnd(20)}  PROGRESS  CREATED`,
      ...list.map(
        (r: any) =>
          `${r.id}  ${r.kind.padEnd(17)}  ${r.status.padEnd(9)}  ${cell(r.model ? `${r.model.name}${r.layer ? ` ${r.layer}` : ''}` : null, 20)}  ${cell(r.subject?.name, 12)}  ${cell(r.dataset?.name, 20)}  ${`${Math.round(r.progress * 100)}%`.padStart(8)}  ${r.createdAt}`,
      ),
      `${list.length} of ${runs.totalCount} runs, newest first`,
    ].join('\n'),
  );
  return EXIT.OK;
}

function fail(err: Error): never {
  throw err;
}
