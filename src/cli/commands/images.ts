// `brainalign images <dir|archive> --stimulus-set <name>`: attaches the images of a stimulus set.
// A directory is packed into one .tar (its image files, and manifest.csv when present; the same
// directory contents give the same archive, so an interrupted upload resumes), then the archive
// is uploaded like `upload` (sha256 while reading, parts in parallel, resumable) and imported:
// the server matches entries to externalIds by file stem or manifest, all or nothing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeTar } from '../../images/archive-writer';
import { stateDir } from '../config';
import type { CommandContext } from '../context';
import { EXIT, inputError } from '../exit-codes';
import { emit, showsProgress } from '../io';
import { uploadFiles } from '../upload/resolve';
import { missing } from '../catalog-lookup';

const IMAGE = /\.(jpe?g|png|webp)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Packs a directory's images (recursively, sorted) into a cached .tar named by their listing. */
export function packDirectory(dir: string, cacheDir: string): { file: string; entries: number } {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      if (name.startsWith('.')) continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else if (IMAGE.test(name) || r === 'manifest.csv') files.push(r);
    }
  };
  walk('');
  if (!files.some((f) => IMAGE.test(f))) throw inputError(`${dir} holds no .jpg, .jpeg, .png or .webp files`);
  const listing = files.map((f) => {
    const st = statSync(path.join(dir, f));
    return `${f}\t${st.size}\t${st.mtimeMs}`;
  });
  const key = createHash('sha256').update(path.resolve(dir)).update(listing.join('\n')).digest('hex').slice(0, 16);
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `images-${key}.tar`);
  if (!existsSync(file)) {
    const tmp = `${file}.partial`;
    writeFileSync(tmp, writeTar(files.map((f) => ({ name: f, data: readFileSync(path.join(dir, f)) }))));
    renameSync(tmp, file);
  }
  return { file, entries: files.length };
}

async function stimulusSetId(ctx: CommandContext, name: string, dataset?: string): Promise<{ id: string; name: string }> {
  if (UUID.test(name)) return { id: name, name };
  const client = await ctx.client();
  const { datasets } = await client.request(`query($f: DatasetFilter) { datasets(first: 100, filter: $f) { edges { node { name stimulusSets { id name } } } } }`, { f: dataset ? { nameContains: dataset } : null });
  const found = datasets.edges
    .map((e: any) => e.node)
    .filter((d: any) => !dataset || d.name === dataset)
    .flatMap((d: any) => d.stimulusSets.filter((s: any) => s.name === name).map((s: any) => ({ id: s.id, name: `${d.name}/${s.name}` })));
  if (found.length === 0) throw missing('stimulus set', name, dataset ? ` in dataset ${dataset}` : '');
  if (found.length > 1) throw inputError(`${found.length} stimulus sets are named ${JSON.stringify(name)} (${found.map((f: any) => f.name).join(', ')}); add --dataset <name>`);
  return found[0];
}

export async function images(ctx: CommandContext, source: string, options: { stimulusSet: string; dataset?: string; parallel?: number }): Promise<number> {
  const full = path.resolve(ctx.io.cwd ?? process.cwd(), source);
  if (!existsSync(full)) throw inputError(`${source} does not exist`);
  const set = await stimulusSetId(ctx, options.stimulusSet, options.dataset);
  let archive = full;
  let packed: number | null = null;
  if (statSync(full).isDirectory()) {
    const p = packDirectory(full, path.join(stateDir(ctx.io.env), 'image-archives'));
    archive = p.file;
    packed = p.entries;
  } else if (!/\.(zip|tar)$/i.test(full)) throw inputError(`${source} is neither a directory nor a .zip or .tar archive`);
  const client = await ctx.client();
  const [uploaded] = await uploadFiles([{ file: archive }], ctx.io, client, showsProgress(ctx.io, ctx.opts), { parallel: options.parallel });
  const { importStimulusImages: r } = await client.request(
    `mutation($i: ImportStimulusImagesInput!) { importStimulusImages(input: $i) { attached withoutImage } }`,
    { i: { stimulusSetId: set.id, artifactId: uploaded.id } },
  );
  emit(ctx.io, ctx.opts, { stimulusSet: set, artifact: uploaded.id, attached: r.attached, withoutImage: r.withoutImage, ...(packed !== null ? { packedFiles: packed } : {}) }, () =>
    `${set.name}: ${r.attached} images attached${r.withoutImage ? `, ${r.withoutImage} stimuli still without an image` : ''} (archive artifact ${uploaded.id})`,
  );
  return EXIT.OK;
}
