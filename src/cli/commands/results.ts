// `brainalign results`: a run's scores as JSON or CSV, and its output arrays downloaded.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CommandContext } from '../context';
import { CliError, EXIT, inputError } from '../exit-codes';
import { emit } from '../io';
import { fetchRun } from '../runs-query';

const SCORE_COLUMNS = ['metric', 'scope', 'value', 'ciLow', 'ciHigh', 'normalized', 'n'] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function scoresCsv(runId: string, scores: any[]): string {
  const header = ['run_id', 'metric', 'scope', 'value', 'ci_low', 'ci_high', 'normalized', 'n', 'extra'];
  const rows = scores.map((s) => [runId, ...SCORE_COLUMNS.map((c) => s[c]), Object.keys(s.extra ?? {}).length ? s.extra : ''].map(csvCell).join(','));
  return [header.join(','), ...rows].join('\n') + '\n';
}

async function download(url: string, file: string, sha256: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new CliError(`Download of ${path.basename(file)} failed: HTTP ${res.status}`, EXIT.SERVER);
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as any), tap, createWriteStream(file));
  const got = hash.digest('hex');
  if (got !== sha256) throw new CliError(`${file} arrived with sha256 ${got}, expected ${sha256}; download again`, EXIT.SERVER);
}

export async function results(ctx: CommandContext, runId: string, options: { format?: string; output?: string; metric?: string; roi?: string }): Promise<number> {
  const format = (options.format ?? (ctx.opts.json ? 'json' : 'csv')).toLowerCase();
  if (format !== 'json' && format !== 'csv') throw inputError(`--format must be json or csv (got ${options.format})`);
  const run = await fetchRun(
    await ctx.client(),
    runId,
    `provenance params
     scores(metric: $metric, roi: $roi) { metric scope value ciLow ciHigh normalized n extra }
     outputs { name artifact { id filename sha256 size dtype shape downloadUrl } }`,
    { metric: options.metric, roi: options.roi },
  );
  const files: { name: string; file: string; sha256: string }[] = [];
  if (options.output) {
    const dir = path.resolve(ctx.io.cwd ?? process.cwd(), options.output);
    await mkdir(dir, { recursive: true });
    for (const o of run.outputs) {
      const ext = path.extname(o.artifact.filename) || '.bin';
      const file = path.join(dir, `${o.name}${ext}`);
      await download(o.artifact.downloadUrl, file, o.artifact.sha256);
      files.push({ name: o.name, file, sha256: o.artifact.sha256 });
    }
  }
  if (format === 'csv' && !ctx.opts.json) ctx.io.stdout.write(scoresCsv(run.id, run.scores));
  else
    emit(ctx.io, { ...ctx.opts, json: true }, {
      run: { id: run.id, kind: run.kind, status: run.status, params: run.params, provenance: run.provenance },
      scores: run.scores,
      outputs: run.outputs.map((o: any) => ({ name: o.name, ...o.artifact, downloadUrl: undefined })),
      ...(options.output ? { downloaded: files } : {}),
    }, () => '');
  if (files.length && !ctx.opts.json) ctx.io.stderr.write(`Downloaded ${files.length} output arrays to ${options.output}\n`);
  return run.status === 'FAILED' || run.status === 'CANCELLED' ? EXIT.RUN_FAILED : EXIT.OK;
}
