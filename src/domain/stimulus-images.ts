// Images of stimuli: one image per stimulus, stored as a content-addressed artifact with a
// thumbnail; attached one at a time or for a whole stimulus set from one archive. Every image is
// decoded by the rule of src/images/decode.ts before it is attached, so a feature extraction
// never meets an undecodable file. An archive is all or nothing: every problem (entries that
// match no stimulus, two entries for one stimulus, files that do not decode, a bad manifest) is
// reported at once in `extensions.errors`, and nothing is attached.
import { createHash } from 'node:crypto';
import type { DomainContext } from './context';
import { badInput } from '../errors';
import { ArchiveFormatError, isIgnoredEntry, readArchive } from '../images/archive';
import { decodeImage, ImageDecodeError, type DecodedImage } from '../images/decode';
import { makeThumbnail } from '../images/thumbnail';
import { assertCanWrite } from './access';
import { inputArtifact, storeArtifact } from './artifacts';
import { visibleStimulusSet } from './catalog';
import { requireUuid } from './validate';

/** Largest single image accepted (bytes). */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;
/** Entries decoded at once while reading an archive (libvips threads each). */
const IN_FLIGHT = 4;
const MANIFEST = /(^|\/)manifest\.csv$/i;

export interface StimulusImagesImportModel {
  stimulusSet: import('../generated/prisma/client').StimulusSet;
  attached: number;
  withoutImage: number;
}

export interface ArchiveError {
  entry: string;
  reason: string;
}

interface Prepared {
  format: string;
  width: number;
  height: number;
  artifactId: string;
  thumbnailArtifactId: string;
}

async function readArtifactBytes(ctx: DomainContext, sha256: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await ctx.services.store.get(sha256)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Decodes (refusing what the rule refuses), stores the bytes and a thumbnail. Artifacts this call
 * created (content not stored before) are added to `created`, so a refused archive can take
 * them back.
 */
async function prepare(ctx: DomainContext, labId: string, bytes: Buffer, filename: string, decoded?: DecodedImage, created?: Set<string>): Promise<Prepared> {
  const image = decoded ?? (await decodeImage(bytes));
  const store = async (body: Buffer, meta: Parameters<typeof storeArtifact>[2]) => {
    const before = await ctx.db.artifact.count({ where: { sha256: sha256Of(body) } });
    const artifact = await storeArtifact(ctx.services, body, meta);
    if (before === 0) created?.add(artifact.id);
    return artifact;
  };
  const original = await store(bytes, { filename, labId, mediaType: `image/${image.format}` });
  const thumb = await store(await makeThumbnail(image), { filename: `${filename.replace(/\.[^.]*$/, '')}.thumb.jpg`, labId, mediaType: 'image/jpeg' });
  return { format: image.format, width: image.width, height: image.height, artifactId: original.id, thumbnailArtifactId: thumb.id };
}

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * Removes artifacts an archive import stored before it was refused: rows and bytes, unless
 * something came to reference them meanwhile (an image attached from the same bytes).
 */
async function discardCreated(ctx: DomainContext, created: Set<string>) {
  for (const id of created) {
    const inUse = await ctx.db.stimulusImage.count({ where: { OR: [{ artifactId: id }, { thumbnailArtifactId: id }] } });
    if (inUse) continue;
    const removed = await ctx.db.artifact.delete({ where: { id } }).catch(() => null); // referenced elsewhere: kept
    if (removed) await ctx.services.store.delete(removed.sha256).catch(() => undefined);
  }
}

async function writableStimulusSet(ctx: DomainContext, stimulusSetId: string) {
  const { stimulusSet, dataset } = await visibleStimulusSet(ctx, stimulusSetId);
  assertCanWrite(ctx.viewer, dataset.labId);
  return { stimulusSet, dataset };
}

/** Attaches an uploaded image (artifact) to one stimulus, replacing any image it had. */
export async function attachStimulusImage(ctx: DomainContext, input: { stimulusId: string; artifactId: string }) {
  const stimulus = await ctx.db.stimulus.findUnique({ where: { id: requireUuid(input.stimulusId, 'stimulusId') } });
  if (!stimulus) throw badInput(`Stimulus ${input.stimulusId} does not exist or is not visible to you`, 'stimulusId');
  const { dataset } = await writableStimulusSet(ctx, stimulus.stimulusSetId);
  const artifact = await inputArtifact(ctx, input.artifactId, 'artifactId');
  if (Number(artifact.size) > MAX_IMAGE_BYTES) throw badInput(`${artifact.filename || 'The artifact'} is ${artifact.size} bytes; one image may be at most ${MAX_IMAGE_BYTES}`, 'artifactId');
  const bytes = await readArtifactBytes(ctx, artifact.sha256);
  let image: DecodedImage;
  try {
    image = await decodeImage(bytes);
  } catch (err) {
    if (err instanceof ImageDecodeError) throw badInput(`${artifact.filename || 'The artifact'}: ${err.message}`, 'artifactId', { reason: err.reason });
    throw err;
  }
  const p = await prepare(ctx, dataset.labId, bytes, artifact.filename || `${stimulus.externalId}.${image.format}`, image);
  await ctx.db.stimulusImage.upsert({ where: { stimulusId: stimulus.id }, create: { stimulusId: stimulus.id, ...p }, update: p });
  return stimulus;
}

/** Reads `externalId,path` lines (a header line naming both columns first). */
export function parseManifest(text: string, entry: string, errors: ArchiveError[]): Map<string, string> {
  const byPath = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = lines[0].split(',').map((h) => h.trim());
  const idCol = header.indexOf('externalId');
  const pathCol = header.indexOf('path');
  if (idCol < 0 || pathCol < 0) {
    errors.push({ entry, reason: `the manifest's first line must name the columns externalId,path (found ${JSON.stringify(lines[0])})` });
    return byPath;
  }
  lines.slice(1).forEach((line, i) => {
    if (!line.trim()) return;
    const cells = line.split(',').map((c) => c.trim());
    const [id, path] = [cells[idCol], cells[pathCol]];
    if (!id || !path) errors.push({ entry: `${entry}:${i + 2}`, reason: 'a line needs both externalId and path' });
    else if (byPath.has(path)) errors.push({ entry: `${entry}:${i + 2}`, reason: `path ${path} is listed twice` });
    else byPath.set(path.replace(/^\.\//, ''), id);
  });
  return byPath;
}

const stemOf = (name: string) => name.split('/').pop()!.replace(/\.[^.]*$/, '');

/**
 * Attaches the images of an archive (.zip or .tar artifact) to the stimuli of a set, matched by
 * file stem (`img-0042.jpg` -> externalId `img-0042`) or, when the archive holds a manifest.csv
 * (`externalId,path`), by the manifest. All or nothing.
 */
export async function importStimulusImages(ctx: DomainContext, input: { stimulusSetId: string; artifactId: string }): Promise<StimulusImagesImportModel> {
  const { stimulusSet, dataset } = await writableStimulusSet(ctx, input.stimulusSetId);
  const artifact = await inputArtifact(ctx, input.artifactId, 'artifactId');
  const stimuli = await ctx.db.stimulus.findMany({ where: { stimulusSetId: stimulusSet.id }, select: { id: true, externalId: true } });
  const idOf = new Map(stimuli.map((s) => [s.externalId, s.id]));
  const errors: ArchiveError[] = [];
  const prepared = new Map<string, Prepared>();
  let manifest: Map<string, string> | null = null;
  let manifestEntry = '';
  const pending = new Set<Promise<void>>();
  const created = new Set<string>();
  try {
    return await attachArchive();
  } catch (err) {
    // Refused (or failed): what was stored for it goes too, so nothing is left behind.
    await Promise.allSettled(pending);
    await discardCreated(ctx, created);
    throw err;
  }

  async function attachArchive(): Promise<StimulusImagesImportModel> {
    try {
      for await (const entry of readArchive(ctx.services.store, artifact.sha256, artifact.filename, MAX_IMAGE_BYTES)) {
        if (isIgnoredEntry(entry.name)) continue;
        if (MANIFEST.test(entry.name)) {
          manifestEntry = entry.name;
          manifest = parseManifest((await entry.read()).toString('utf8'), entry.name, errors);
          continue;
        }
        const bytes = await entry.read();
        // Several entries decode at once; reading the next entry waits while IN_FLIGHT are busy.
        const work: Promise<void> = prepare(ctx, dataset.labId, bytes, entry.name.split('/').pop()!, undefined, created)
          .then((p) => void prepared.set(entry.name, p))
          .catch((err) => {
            if (err instanceof ImageDecodeError) errors.push({ entry: entry.name, reason: err.message });
            else throw err;
          })
          .finally(() => pending.delete(work));
        pending.add(work);
        if (pending.size >= IN_FLIGHT) await Promise.race(pending);
      }
      await Promise.all(pending);
    } catch (err) {
      await Promise.allSettled(pending);
      if (err instanceof ArchiveFormatError) throw badInput(`${artifact.filename || 'The archive'}: ${err.message}`, 'artifactId');
      throw err;
    }

    // Matching happens after the whole archive is read: a tar may hold its manifest last.
    const byStimulus = new Map<string, string>();
    const matched: { stimulusId: string; p: Prepared }[] = [];
    for (const [name, p] of [...prepared].sort(([a], [b]) => a.localeCompare(b))) {
      const externalId = manifest ? manifest.get(name) : stemOf(name);
      if (externalId === undefined) {
        errors.push({ entry: name, reason: `not listed in ${manifestEntry}` });
        continue;
      }
      const stimulusId = idOf.get(externalId);
      if (!stimulusId) {
        errors.push({ entry: name, reason: `no stimulus with externalId ${JSON.stringify(externalId)} in stimulus set ${stimulusSet.name}` });
        continue;
      }
      const other = byStimulus.get(externalId);
      if (other) {
        errors.push({ entry: name, reason: `a second image for stimulus ${externalId} (also ${other})` });
        continue;
      }
      byStimulus.set(externalId, name);
      matched.push({ stimulusId, p });
    }
    if (manifest) for (const [path, id] of manifest) if (!prepared.has(path) && !errors.some((e) => e.entry === path)) errors.push({ entry: path, reason: `listed in ${manifestEntry} (for ${id}) but not in the archive` });
    if (errors.length) {
      errors.sort((a, b) => a.entry.localeCompare(b.entry));
      throw badInput(
        `${artifact.filename || 'The archive'}: ${errors.length} entr${errors.length === 1 ? 'y' : 'ies'} could not be attached, so nothing was (first: ${errors[0].entry}: ${errors[0].reason})`,
        'artifactId',
        { errors: errors.slice(0, 1000), errorCount: errors.length },
      );
    }
    if (matched.length === 0) throw badInput(`${artifact.filename || 'The archive'} holds no images`, 'artifactId');
    await ctx.db.$transaction(
      async (tx) => {
        for (const { stimulusId, p } of matched) await tx.stimulusImage.upsert({ where: { stimulusId }, create: { stimulusId, ...p }, update: p });
      },
      { timeout: 120_000 },
    );
    return { stimulusSet, attached: matched.length, withoutImage: stimuli.length - (await ctx.db.stimulusImage.count({ where: { stimulus: { stimulusSetId: stimulusSet.id } } })) };
  }
}
