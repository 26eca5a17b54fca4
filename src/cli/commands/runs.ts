// `brainalign runs`: the newest runs the client may see, optionally filtered.
import type { CommandContext } from '../context';
import { EXIT, inputError } from '../exit-codes';
import { emit } from '../io';
import { RUN_FIELDS } from '../runs-query';

export async function listRuns(ctx: CommandContext, options: { kind?: string; status?: string; first?: string }): Promise<number> {
  const first = options.first === undefined ? 20 : Number(options.first);
  if (!Number.isInteger(first) || first < 1) throw inputError(`--first must be a positive whole number (got ${options.first})`);
  const filter = { ...(options.kind ? { kind: options.kind.toUpperCase() } : {}), ...(options.status ? { status: options.status.toUpperCase() } : {}) };
  const { runs } = await (await ctx.client()).request(
    `query($first: Int, $filter: RunFilter) { runs(first: $first, filter: $filter) { totalCount edges { node { ${RUN_FIELDS} } } } }`,
    { first, filter },
  );
  const list = runs.edges.map((e: any) => e.node);
  emit(ctx.io, ctx.opts, { totalCount: runs.totalCount, runs: list }, () =>
    [
      `${'ID'.padEnd(36)}  ${'KIND'.padEnd(17)}  ${'STATUS'.padEnd(9)}  PROGRESS  CREATED`,
      ...list.map((r: any) => `${r.id}  ${r.kind.padEnd(17)}  ${r.status.padEnd(9)}  ${`${Math.round(r.progress * 100)}%`.padStart(8)}  ${r.createdAt}`),
      `${list.length} of ${runs.totalCount} runs`,
    ].join('\n'),
  );
  return EXIT.OK;
}
