// `brainalign submit`: queues the runs of a manifest. Name references become ids, files become
// artifacts, and the idempotency key is derived from the resolved input, so submitting the same
// manifest again returns the same runs while a changed manifest queues new ones.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { CatalogLookup, missing } from '../catalog-lookup';
import type { ApiClient } from '../client';
import type { CommandContext } from '../context';
import { CliError, EXIT, inputError } from '../exit-codes';
import { emit, showsProgress } from '../io';
import { loadManifest, runsManifest } from '../manifest';
import { uploadFiles } from '../upload/resolve';
import { describeEnd, waitForRuns } from './watch';

/** ENCODING_RIDGE -> EncodingRidge: the mutation is submit<Kind>, its input <Kind>Input. */
export function kindToPascal(kind: string): string {
  return kind
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** Stable JSON (sorted keys), so the same content always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function idempotencyKeyFor(kind: string, input: Record<string, unknown>): string {
  return `manifest-${createHash('sha256').update(`${kind}\n${canonical(input)}`).digest('hex').slice(0, 40)}`;
}

type Entry = Record<string, unknown>;

const str = (v: unknown, where: string): string => {
  if (typeof v !== 'string' || !v) throw inputError(`${where} must be a name`);
  return v;
};

class RunResolver {
  private readonly lookup: CatalogLookup;
  constructor(
    private readonly ctx: CommandContext,
    private readonly client: ApiClient,
    private readonly dir: string,
  ) {
    this.lookup = new CatalogLookup(client);
  }

  /** `<ref>: name or { ... }` becomes `<ref>Id`; `artifact: file` is uploaded and becomes `artifactId`. */
  async resolve(entry: Entry, where: string): Promise<Record<string, unknown>> {
    const input: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'kind') continue;
      const at = `${where}.${key}`;
      switch (key) {
        case 'dataset':
          input.datasetId = (await this.lookup.requireDataset(str(value, at))).id;
          break;
        case 'model':
          input.modelId = (await this.lookup.requireModel(str(value, at))).id;
          break;
        case 'benchmark': {
          const b = await this.lookup.benchmark(str(value, at));
          if (!b) throw missing('benchmark', value as string);
          input.benchmarkId = b.id;
          break;
        }
        case 'subject': {
          const v = value as Entry;
          input.subjectId = (await this.lookup.subject(str(v?.dataset, `${at}.dataset`), str(v?.subject, `${at}.subject`))).id;
          break;
        }
        case 'stimulusSet': {
          const v = value as Entry;
          input.stimulusSetId = (await this.lookup.stimulusSet(str(v?.dataset, `${at}.dataset`), str(v?.stimulusSet, `${at}.stimulusSet`))).id;
          break;
        }
        case 'featureSet':
          input.featureSetId = await this.featureSet(value as Entry, at);
          break;
        case 'responseSet':
          input.responseSetId = await this.responseSet(value as Entry, at);
          break;
        case 'artifact':
          input.artifactId = await this.upload(value, at);
          break;
        default:
          input[key] = value;
      }
    }
    return input;
  }

  private async featureSet(v: Entry, at: string): Promise<string> {
    const model = await this.lookup.requireModel(str(v?.model, `${at}.model`));
    const set = await this.lookup.stimulusSet(str(v?.dataset, `${at}.dataset`), str(v?.stimulusSet, `${at}.stimulusSet`));
    const layer = typeof v.layer === 'string' ? v.layer : '';
    const found = model.featureSets.find((f) => f.stimulusSet.id === set.id && f.layer === layer);
    if (!found) throw missing('feature set', `${model.name}/${v.stimulusSet}${layer ? `/${layer}` : ''}`, '; register it first');
    return found.id;
  }

  private async responseSet(v: Entry, at: string): Promise<string> {
    const subject = await this.lookup.subject(str(v?.dataset, `${at}.dataset`), str(v?.subject, `${at}.subject`));
    const name = typeof v.name === 'string' ? v.name : 'betas';
    const setId = v.stimulusSet ? (await this.lookup.stimulusSet(v.dataset as string, str(v.stimulusSet, `${at}.stimulusSet`))).id : undefined;
    const matches = subject.responseSets.filter((r) => r.name === name && (!setId || r.stimulusSet.id === setId));
    if (matches.length === 0) throw missing('response set', `${v.subject}/${name}`, '; register it first');
    if (matches.length > 1) throw inputError(`${at}: subject ${v.subject} has ${matches.length} response sets named ${name}; add stimulusSet`);
    return matches[0].id;
  }

  private async upload(value: unknown, at: string): Promise<string> {
    const ref = typeof value === 'string' ? { file: value } : (value as { file?: string; member?: string; hdf5Dataset?: string });
    if (!ref?.file) throw inputError(`${at} must be a file path or { file, member, hdf5Dataset }`);
    const reports = await uploadFiles([{ file: ref.file, member: ref.member, dataset: ref.hdf5Dataset }], { ...this.ctx.io, cwd: this.dir }, this.client, showsProgress(this.ctx.io, this.ctx.opts));
    if (reports.length !== 1) throw inputError(`${at}: ${ref.file} holds ${reports.length} arrays; name one with member`);
    return reports[0].id;
  }
}

export async function submit(ctx: CommandContext, manifestPath: string, options: { watch?: boolean }): Promise<number> {
  const manifest = await loadManifest(path.resolve(ctx.io.cwd ?? process.cwd(), manifestPath), runsManifest);
  const client = await ctx.client();
  const resolver = new RunResolver(ctx, client, manifest.dir);
  // Everything is resolved (and uploaded) before the first run is queued: a bad entry queues nothing.
  const planned = [];
  for (const [i, entry] of manifest.value.runs.entries()) {
    const input = await resolver.resolve(entry as Entry, `runs.${i}`);
    if (!input.idempotencyKey) input.idempotencyKey = idempotencyKeyFor(entry.kind, input);
    planned.push({ kind: entry.kind, input });
  }
  const runs: any[] = [];
  for (const { kind, input } of planned) {
    const pascal = kindToPascal(kind);
    const data = await client
      .request(`mutation($input: ${pascal}Input!) { run: submit${pascal}(input: $input) { id kind status createdAt } }`, { input })
      .catch((err) => {
        if (err instanceof CliError && err.code === 'GRAPHQL_VALIDATION_FAILED' && /Unknown type|Cannot query field "submit/.test(err.message))
          throw inputError(`This server does not accept runs of kind ${kind} (no submit${pascal} mutation)`);
        throw err;
      });
    runs.push({ ...data.run, idempotencyKey: input.idempotencyKey });
  }
  let finals: any[] = [];
  if (options.watch) finals = await waitForRuns(ctx, client, runs.map((r) => r.id), {});
  for (const f of finals) Object.assign(runs.find((r) => r.id === f.id)!, { status: f.status, error: f.error });
  const failed = finals.filter((f) => f.status !== 'SUCCEEDED');
  emit(ctx.io, ctx.opts, { runs }, () => runs.map((r) => (r.error || finals.length ? describeEnd(r) : `Run ${r.id} (${r.kind}) ${r.status}`)).join('\n'));
  return failed.length ? EXIT.RUN_FAILED : EXIT.OK;
}
