// `brainalign watch`: polls a run's progress until it ends; the exit code says how it ended.
import type { ApiClient } from '../client';
import type { CommandContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { emit, showsProgress } from '../io';
import { runProgress } from '../progress';
import { ENDED, fetchRun } from '../runs-query';

export interface WatchOptions {
  /** Seconds between polls. */
  interval?: number;
  /** Give up after this many seconds (exit 7). */
  timeout?: number;
}

export async function waitForRuns(ctx: CommandContext, client: ApiClient, ids: string[], options: WatchOptions): Promise<any[]> {
  const intervalMs = Math.max(50, (options.interval ?? 0.5) * 1000);
  const deadline = options.timeout ? Date.now() + options.timeout * 1000 : Infinity;
  const finals: any[] = [];
  for (const id of ids) {
    const bar = runProgress(ctx.io.stderr, showsProgress(ctx.io, ctx.opts), `run ${id.slice(0, 8)}`);
    for (;;) {
      let run;
      try {
        run = await fetchRun(client, id);
      } catch (err) {
        // Polling must not fail a long watch over the token's rate limit: wait as told, then go on.
        if (!(err instanceof CliError && err.code === 'RATE_LIMITED') || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.max(1, Number(err.details?.retryAfterSeconds ?? 5)) * 1000));
        continue;
      }
      bar.update(run.progress, `${run.status} ${run.progressMessage}`);
      if (ENDED.has(run.status)) {
        bar.done();
        finals.push(run);
        break;
      }
      if (Date.now() > deadline) {
        bar.done();
        throw new CliError(`Run ${id} is still ${run.status} (${Math.round(run.progress * 100)}%: ${run.progressMessage}) after ${options.timeout} s`, EXIT.TIMEOUT, 'TIMEOUT');
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
  return finals;
}

export function describeEnd(run: any): string {
  if (run.status === 'SUCCEEDED') return `Run ${run.id} (${run.kind}) SUCCEEDED`;
  return `Run ${run.id} (${run.kind}) ${run.status}${run.error ? `: ${run.error.code}: ${run.error.message}` : ''}`;
}

export async function watch(ctx: CommandContext, runId: string, options: WatchOptions): Promise<number> {
  const [run] = await waitForRuns(ctx, await ctx.client(), [runId], options);
  emit(ctx.io, ctx.opts, { run }, () => describeEnd(run));
  return run.status === 'SUCCEEDED' ? EXIT.OK : EXIT.RUN_FAILED;
}
