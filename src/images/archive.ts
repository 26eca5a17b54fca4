// Reading the files of a stimulus-image archive (.zip or .tar) one entry at a time from the
// artifact store, so a whole stimulus set never sits in memory or on the API's disk: a tar is
// parsed as one stream (512-byte headers, ustar prefixes, pax and GNU long names), a zip through
// its central directory with each member streamed from a byte range (src/storage/npz.ts).
import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { ArtifactStore } from '../storage/artifact-store';
import { NpzArchive, type RandomAccess } from '../storage/npz';

export interface ArchiveEntry {
  /** Path inside the archive, '/'-separated. */
  name: string;
  size: number;
  /** The entry's bytes (call once). */
  read(): Promise<Buffer>;
}

export class ArchiveFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveFormatError';
  }
}

/** Entries no lab means as stimuli: directories, macOS resource forks, dotfiles. */
export function isIgnoredEntry(name: string): boolean {
  const parts = name.split('/');
  return name.endsWith('/') || parts.includes('__MACOSX') || parts.some((p) => p.startsWith('.') && p !== '.' && p !== '..');
}

export function archiveKind(filename: string, head: Buffer): 'zip' | 'tar' | null {
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  if (/\.tar$/i.test(filename)) return 'tar';
  return null;
}

async function streamToBuffer(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function storeSource(store: ArtifactStore, sha256: string, size: number): RandomAccess {
  return {
    size,
    read: async (offset, length) => (length > 0 && offset < size ? streamToBuffer(await store.getRange(sha256, offset, Math.min(length, size - offset))) : Buffer.alloc(0)),
    stream: (offset, length) => {
      const out = new PassThrough();
      if (length <= 0) {
        out.end();
        return out;
      }
      store.getRange(sha256, offset, length).then((s) => pipeline(s, out, () => undefined), (err) => out.destroy(err));
      return out;
    },
    close: async () => undefined,
  };
}

/** The entries of a stored archive, in archive order. Throws ArchiveFormatError. */
export async function* readArchive(store: ArtifactStore, sha256: string, filename: string, maxEntryBytes: number): AsyncGenerator<ArchiveEntry> {
  const { size } = await store.stat(sha256);
  const head = size > 0 ? await streamToBuffer(await store.getRange(sha256, 0, Math.min(512, size))) : Buffer.alloc(0);
  const kind = archiveKind(filename, head);
  if (kind === 'zip') yield* readZip(storeSource(store, sha256, size), maxEntryBytes);
  else if (kind === 'tar') yield* readTar(await store.get(sha256), maxEntryBytes);
  else throw new ArchiveFormatError(`${filename || 'the artifact'} is neither a .zip nor a .tar archive`);
}

async function* readZip(ra: RandomAccess, maxEntryBytes: number): AsyncGenerator<ArchiveEntry> {
  let archive: NpzArchive;
  try {
    archive = await NpzArchive.openSource(ra);
  } catch (err) {
    throw new ArchiveFormatError(`not a readable zip archive: ${(err as Error).message}`);
  }
  for (const m of archive.members) {
    if (m.size > maxEntryBytes) throw new ArchiveFormatError(`entry ${m.name} is ${m.size} bytes, above the ${maxEntryBytes}-byte limit for one image`);
    yield { name: m.name, size: m.size, read: () => archive.readMember(m.name) };
  }
}

/** Pulls exact byte counts out of a stream. */
class ByteReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  async read(n: number): Promise<Buffer | null> {
    while (this.length < n && !this.done) {
      const next = await this.it.next();
      if (next.done) this.done = true;
      else {
        this.buffered.push(next.value);
        this.length += next.value.length;
      }
    }
    if (this.length < n) return null;
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    this.buffered = all.length > n ? [all.subarray(n)] : [];
    this.length = all.length - n;
    return all.subarray(0, n);
  }
}

function cString(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? s.length : end).toString('utf8');
}

function octal(b: Buffer, start: number, len: number): number {
  const s = cString(b, start, len).trim();
  if (b[start] & 0x80) throw new ArchiveFormatError('tar entries above 8 GiB (base-256 sizes) are not supported');
  const n = s === '' ? 0 : parseInt(s, 8);
  if (!Number.isFinite(n)) throw new ArchiveFormatError(`malformed tar header (size field ${JSON.stringify(s)})`);
  return n;
}

async function* readTar(stream: Readable, maxEntryBytes: number): AsyncGenerator<ArchiveEntry> {
  const reader = new ByteReader(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  let longName: string | null = null;
  try {
    for (;;) {
      const header = await reader.read(512);
      if (!header) throw new ArchiveFormatError('the tar archive is truncated (it ends inside a header)');
      if (header.every((x) => x === 0)) return;
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
      if (sum !== octal(header, 148, 8)) throw new ArchiveFormatError('malformed tar header (checksum mismatch): not a tar archive, or a corrupt one');
      const size = octal(header, 124, 12);
      const type = String.fromCharCode(header[156] || 48);
      const padded = Math.ceil(size / 512) * 512;
      const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? cString(header, 345, 155) : '';
      const name = longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
      longName = null;
      if (type === 'L' || type === 'x') {
        const body = await reader.read(padded);
        if (!body) throw new ArchiveFormatError('the tar archive is truncated');
        const text = body.subarray(0, size).toString('utf8');
        if (type === 'L') longName = text.replace(/\0+$/, '');
        else {
          const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
          if (path) longName = path[1];
        }
        continue;
      }
      if (type !== '0' && type !== '7') {
        // Directories, links, global pax headers: skip their bodies.
        if (padded && !(await reader.read(padded))) throw new ArchiveFormatError('the tar archive is truncated');
        continue;
      }
      if (size > maxEntryBytes) throw new ArchiveFormatError(`entry ${name} is ${size} bytes, above the ${maxEntryBytes}-byte limit for one image`);
      const body = await reader.read(padded);
      if (!body) throw new ArchiveFormatError(`the tar archive is truncated (inside entry ${name})`);
      const bytes = Buffer.from(body.subarray(0, size));
      yield { name, size, read: async () => bytes };
    }
  } finally {
    stream.destroy();
  }
}
