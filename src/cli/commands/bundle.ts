// `brainalign bundle export|import|pull`: the site bundle mutations, from the command line.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CatalogLookup, missing } from '../catalog-lookup';
import type { CommandContext } from '../context';
import { EXIT, inputError } from '../exit-codes';
import { emit } from '../io';

const RESULT = `bundleId site imported skipped withdrawn alreadyImported unmatchedBenchmarks`;

function describeImport(r: any): string {
  if (r.alreadyImported) return `Bundle ${r.bundleId.slice(0, 12)}… from ${r.site} was imported before; nothing changed`;
  const unmatched = r.unmatchedBenchmarks.length ? `; no benchmark here for: ${r.unmatchedBenchmarks.join(', ')}` : '';
  return `Imported bundle ${r.bundleId.slice(0, 12)}… from ${r.site}: ${r.imported} scores added or changed, ${r.skipped} skipped, ${r.withdrawn} withdrawn${unmatched}`;
}

export async function exportBundle(ctx: CommandContext, options: { benchmark?: string[]; includeArrays?: boolean; output?: string }): Promise<number> {
  const client = await ctx.client();
  let benchmarkIds: string[] | undefined;
  if (options.benchmark?.length) {
    const lookup = new CatalogLookup(client);
    benchmarkIds = [];
    for (const name of options.benchmark) {
      const b = await lookup.benchmark(name);
      if (!b) throw missing('benchmark', name);
      benchmarkIds.push(b.id);
    }
  }
  const { exportSiteBundle: bundle } = await client.request(`mutation($i: ExportSiteBundleInput) { exportSiteBundle(input: $i) }`, {
    i: { ...(benchmarkIds ? { benchmarkIds } : {}), includeArrays: Boolean(options.includeArrays) },
  });
  const text = `${JSON.stringify(bundle, null, 2)}\n`;
  if (!options.output) {
    ctx.io.stdout.write(text);
    return EXIT.OK;
  }
  const file = path.resolve(ctx.io.cwd ?? process.cwd(), options.output);
  await writeFile(file, text);
  emit(ctx.io, ctx.opts, { file, bytes: Buffer.byteLength(text) }, () => `Wrote the signed bundle to ${file}`);
  return EXIT.OK;
}

export async function importBundle(ctx: CommandContext, file: string): Promise<number> {
  const full = path.resolve(ctx.io.cwd ?? process.cwd(), file);
  let bundle: unknown;
  try {
    bundle = JSON.parse(await readFile(full, 'utf8'));
  } catch (err) {
    throw inputError(`${file} is not a readable JSON bundle: ${(err as Error).message}`);
  }
  const { importSiteBundle: r } = await (await ctx.client()).request(`mutation($b: JSON!) { importSiteBundle(bundle: $b) { ${RESULT} } }`, { b: bundle });
  emit(ctx.io, ctx.opts, r, () => describeImport(r));
  return EXIT.OK;
}

export async function pullBundle(ctx: CommandContext, site: string): Promise<number> {
  const { pullSiteBundle: r } = await (await ctx.client()).request(`mutation($n: String!) { pullSiteBundle(name: $n) { ${RESULT} } }`, { n: site });
  emit(ctx.io, ctx.opts, r, () => describeImport(r));
  return EXIT.OK;
}
