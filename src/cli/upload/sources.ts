// What can be uploaded: a file as it is, one member of an .npz, or an HDF5 dataset converted to .npy.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { NpzArchive, parseNpyHeader, readPrefix } from '../../storage';
import { inputError } from '../exit-codes';

/** Larger reads than the 64 KiB default: fewer hash updates and socket writes per part. */
const READ_CHUNK = 1 << 20;

export interface UploadSource {
  /** The artifact's file name. */
  filename: string;
  size: number;
  /** Identifies these exact bytes across invocations (path, member, size, mtime): keys resume state. */
  key: string;
  /** Bytes [start, end) as a stream. */
  open(start: number, end: number): Promise<Readable>;
  /** Removes what was made to upload it (a converted file), once it is stored. */
  discard?(): Promise<void>;
}

export async function fileSource(file: string, filename = path.basename(file)): Promise<UploadSource> {
  const st = await statOrThrow(file);
  if (!st.isFile()) throw inputError(`${file} is not a regular file`);
  if (st.size === 0) throw inputError(`${file} is empty`);
  return {
    filename,
    size: st.size,
    key: `file:${path.resolve(file)}:${st.size}:${st.mtimeMs}`,
    open: async (start, end) => createReadStream(file, { start, end: end - 1, highWaterMark: READ_CHUNK }),
  };
}

/** One member of an .npz, streamed out of the archive (inflated when compressed). */
export async function npzMemberSources(file: string, only?: string): Promise<Array<{ source: UploadSource; member: string }>> {
  const st = await statOrThrow(file);
  let archive: NpzArchive;
  try {
    archive = await NpzArchive.open(file);
  } catch (err) {
    throw inputError(`${file} is not a readable .npz archive: ${(err as Error).message}`);
  }
  try {
    const members = only ? [memberOrThrow(archive, only, file)] : archive.members;
    const stem = path.basename(file, path.extname(file));
    return members.map((m) => ({ member: m.arrayName, source: {
      filename: `${stem}.${m.arrayName}.npy`,
      size: m.size,
      key: `npz:${path.resolve(file)}:${st.size}:${st.mtimeMs}:${m.name}`,
      open: async (start, end) => {
        const a = await NpzArchive.open(file);
        const stream = Readable.from(byteRange(await a.openMember(m.name), start, end));
        stream.on('close', () => void a.close());
        return stream;
      },
    } }));
  } finally {
    await archive.close();
  }
}

function memberOrThrow(archive: NpzArchive, name: string, file: string) {
  try {
    return archive.member(name);
  } catch {
    throw inputError(`${file} has no member ${JSON.stringify(name)}; members: ${archive.members.map((m) => m.arrayName).join(', ')}`);
  }
}

/** Skips to `start` and stops at `end` of a byte stream. */
async function* byteRange(stream: AsyncIterable<Buffer>, start: number, end: number): AsyncGenerator<Buffer> {
  let pos = 0;
  for await (const chunk of stream) {
    const from = Math.max(0, start - pos);
    const to = Math.min(chunk.length, end - pos);
    if (to > from) yield chunk.subarray(from, to);
    pos += chunk.length;
    if (pos >= end) break;
  }
}

async function statOrThrow(file: string) {
  try {
    return await stat(file);
  } catch (err) {
    throw inputError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** sha256 of the whole source, read once as a stream. */
export async function hashSource(source: UploadSource, onBytes: (n: number) => void): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of await source.open(0, source.size)) {
    h.update(chunk as Buffer);
    onBytes((chunk as Buffer).length);
  }
  return h.digest('hex');
}

/** Dtype and shape from a .npy source's header; an invalid header is refused before any upload. */
export async function describeNpy(source: UploadSource): Promise<{ dtype: string; shape: number[] } | null> {
  if (!source.filename.endsWith('.npy')) return null;
  try {
    const header = parseNpyHeader(await readPrefix(await source.open(0, Math.min(source.size, 64 * 1024)), 64 * 1024), { fileSize: source.size });
    return { dtype: header.dtype.descr, shape: header.shape };
  } catch (err) {
    throw inputError(`${source.filename} is not a valid .npy file: ${(err as Error).message}`);
  }
}
