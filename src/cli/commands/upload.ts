// `brainalign upload`: arrays and other files into the artifact store, resumable.
import type { CommandContext } from '../context';
import { EXIT, inputError } from '../exit-codes';
import { emit, showsProgress } from '../io';
import { formatBytes } from '../progress';
import { uploadFiles, type FileRef } from '../upload/resolve';

export async function upload(ctx: CommandContext, files: string[], options: { member?: string; dataset?: string; parallel?: number }): Promise<number> {
  const refs: FileRef[] = files.map((file) => ({ file, member: options.member, dataset: options.dataset }));
  if (options.parallel !== undefined && !(Number.isInteger(options.parallel) && options.parallel >= 1 && options.parallel <= 32))
    throw inputError(`--parallel must be a whole number from 1 to 32 (got ${options.parallel})`);
  const reports = await uploadFiles(refs, ctx.io, await ctx.client(), showsProgress(ctx.io, ctx.opts), { parallel: options.parallel });
  emit(ctx.io, ctx.opts, { artifacts: reports }, () =>
    reports
      .map((r) => {
        const what = r.dtype ? `${r.dtype} [${r.shape.join(', ')}]` : r.filename;
        const resumed = r.resumedParts ? `, resumed after ${r.resumedParts} parts` : '';
        return `${r.source}${r.member ? `:${r.member}` : ''}${r.dataset ? `:${r.dataset}` : ''} -> artifact ${r.id} (${what}, ${formatBytes(Number(r.size))}${resumed})`;
      })
      .join('\n'),
  );
  return EXIT.OK;
}
