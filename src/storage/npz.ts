/**
 * Reading `.npz` archives (np.savez: stored members; np.savez_compressed: deflated members).
 * An .npz is a zip of `<name>.npy` files; numpy writes ZIP64 local headers (force_zip64) and
 * plain or ZIP64 central-directory records depending on size, both handled here.
 *
 * Members are read from the central directory and streamed (inflated when deflated), with their
 * CRC-32 and size checked at the end, so a large member can go straight into readNpyRows
 * without being held. Sources: a file path (random access through a file handle) or a buffer.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { NpzFormatError } from './errors';
import { decodeNpy, type NpyArray } from './npy';
import type { NpyHeader } from './npy-header';

export interface NpzMember {
  /** Name in the archive, e.g. 'arr_0.npy'. */
  name: string;
  /** Name without '.npy' as np.load shows it, e.g. 'arr_0'. */
  arrayName: string;
  compression: 'stored' | 'deflated';
  /** Bytes in the archive. */
  compressedSize: number;
  /** Bytes of the .npy once extracted. */
  size: number;
  crc32: number;
  /** Offset of the member's local file header in the archive. */
  localHeaderOffset: number;
}

/** Random access to an archive's bytes (a file, a buffer, or ranges of a stored artifact). */
export interface RandomAccess {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
  stream(offset: number, length: number): Readable;
  close(): Promise<void>;
}

function bufferSource(buf: Uint8Array): RandomAccess {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    size: b.length,
    read: async (offset, length) => b.subarray(offset, offset + length),
    stream: (offset, length) => Readable.from(length > 0 ? [b.subarray(offset, offset + length)] : []),
    close: async () => undefined,
  };
}

async function fileSource(path: string): Promise<RandomAccess> {
  const fh: FileHandle = await open(path, 'r');
  const { size } = await fh.stat();
  return {
    size,
    async read(offset, length) {
      const out = Buffer.alloc(length);
      const { bytesRead } = await fh.read(out, 0, length, offset);
      return out.subarray(0, bytesRead);
    },
    // A separate descriptor per member stream, so streams outlive neither the handle nor each other.
    stream: (offset, length) => (length > 0 ? createReadStream(path, { start: offset, end: offset + length - 1 }) : Readable.from([])),
    close: () => fh.close(),
  };
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

function u64(b: Buffer, at: number): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NpzFormatError(`64-bit field at ${at} is too large`);
  return Number(v);
}

/** An open archive. Close it when done (file sources hold a descriptor). */
export class NpzArchive {
  private constructor(
    private readonly source: RandomAccess,
    /** Members in archive order. */
    readonly members: NpzMember[],
  ) {}

  /** Opens an archive from a file path or from its bytes. */
  static async open(source: string | Uint8Array): Promise<NpzArchive> {
    const ra = typeof source === 'string' ? await fileSource(source) : bufferSource(source);
    try {
      return new NpzArchive(ra, await readCentralDirectory(ra));
    } catch (err) {
      await ra.close();
      throw err;
    }
  }

  /** Opens an archive over any random-access source (e.g. ranges of a stored artifact). */
  static async openSource(ra: RandomAccess): Promise<NpzArchive> {
    try {
      return new NpzArchive(ra, await readCentralDirectory(ra));
    } catch (err) {
      await ra.close();
      throw err;
    }
  }

  /** Finds a member by archive name ('x.npy') or array name ('x'); throws NpzFormatError listing names. */
  member(name: string): NpzMember {
    const m = this.members.find((x) => x.name === name || x.arrayName === name);
    if (!m) {
      throw new NpzFormatError(`no member '${name}' in the archive (members: ${this.members.map((x) => x.arrayName).join(', ') || 'none'})`);
    }
    return m;
  }

  /** The member's .npy bytes as a stream (inflated; CRC-32 and length checked at the end). */
  async openMember(name: string): Promise<Readable> {
    const m = this.member(name);
    const local = await this.source.read(m.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIG) {
      throw new NpzFormatError(`no local file header for '${m.name}' at byte ${m.localHeaderOffset}`, m.localHeaderOffset);
    }
    const dataStart = m.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataStart + m.compressedSize > this.source.size) {
      throw new NpzFormatError(`member '${m.name}' runs past the end of the archive`, dataStart);
    }
    const raw = this.source.stream(dataStart, m.compressedSize);
    const check = new CrcCheck(m);
    // pipeline destroys every stage on error, so the error reaches whoever reads `check`.
    if (m.compression === 'deflated') pipeline(raw, zlib.createInflateRaw(), check, () => undefined);
    else pipeline(raw, check, () => undefined);
    return check;
  }

  /**
   * Reads a member through to its end, checking its length and CRC-32, without keeping it: a
   * corrupt member is refused before anything is computed from its first bytes.
   */
  async verifyMember(name: string): Promise<void> {
    for await (const chunk of await this.openMember(name)) void chunk;
  }

  /** The member's .npy bytes, whole. */
  async readMember(name: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.openMember(name)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Decodes a member as an array (whole; for large members stream openMember into readNpyRows). */
  async readArray(name: string): Promise<NpyArray & { header: NpyHeader }> {
    return decodeNpy(await this.readMember(name));
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

/** Lists the members of an archive. */
export async function listNpzMembers(source: string | Uint8Array): Promise<NpzMember[]> {
  const a = await NpzArchive.open(source);
  await a.close();
  return a.members;
}

/** Reads one array of an archive. */
export async function readNpzArray(source: string | Uint8Array, name: string): Promise<NpyArray & { header: NpyHeader }> {
  const a = await NpzArchive.open(source);
  try {
    return await a.readArray(name);
  } finally {
    await a.close();
  }
}

async function readCentralDirectory(ra: RandomAccess): Promise<NpzMember[]> {
  // End of central directory: 22 bytes + a comment of up to 65535 bytes at the end of the file.
  const tailLen = Math.min(ra.size, 22 + 0xffff);
  const tailStart = ra.size - tailLen;
  const tail = await ra.read(tailStart, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const npy = tail.length >= 6 && tail[0] === 0x93 && tail.subarray(1, 6).toString('latin1') === 'NUMPY' && tailStart === 0;
    throw new NpzFormatError(`not a zip archive: no end-of-central-directory record${npy ? ' (this is an .npy file, not an .npz)' : ''}`);
  }
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR_SIG) {
      throw new NpzFormatError('ZIP64 archive without a ZIP64 end-of-central-directory locator', tailStart + eocd);
    }
    const z64Offset = u64(tail, loc + 8);
    const z64 = await ra.read(z64Offset, 56);
    if (z64.length < 56 || z64.readUInt32LE(0) !== ZIP64_EOCD_SIG) {
      throw new NpzFormatError(`no ZIP64 end-of-central-directory record at byte ${z64Offset}`, z64Offset);
    }
    count = u64(z64, 32);
    cdSize = u64(z64, 40);
    cdOffset = u64(z64, 48);
  }
  if (cdOffset + cdSize > ra.size) throw new NpzFormatError(`central directory at byte ${cdOffset} runs past the end of the archive`, cdOffset);
  const cd = await ra.read(cdOffset, cdSize);
  const members: NpzMember[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) {
      throw new NpzFormatError(`bad central directory entry ${i} at byte ${cdOffset + p}`, cdOffset + p);
    }
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc32 = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = cd.subarray(p + 46, p + 46 + nameLen).toString(flags & 0x800 ? 'utf8' : 'latin1');
    // ZIP64 extra field (id 1): the 64-bit values, in this order, for fields saturated above.
    const extra = cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(e);
      const len = extra.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === U32_MAX) (size = u64(extra, q)), (q += 8);
        if (compressedSize === U32_MAX) (compressedSize = u64(extra, q)), (q += 8);
        if (localHeaderOffset === U32_MAX) localHeaderOffset = u64(extra, q);
      }
      e += 4 + len;
    }
    if (flags & 0x1) throw new NpzFormatError(`member '${name}' is encrypted`);
    if (method !== 0 && method !== 8) {
      throw new NpzFormatError(`member '${name}' uses compression method ${method}; only stored (0) and deflated (8) are supported`);
    }
    members.push({
      name,
      arrayName: name.endsWith('.npy') ? name.slice(0, -4) : name,
      compression: method === 0 ? 'stored' : 'deflated',
      compressedSize,
      size,
      crc32,
      localHeaderOffset,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return members;
}

/** Checks length and CRC-32 of a member's extracted bytes as they pass. */
class CrcCheck extends Transform {
  private crc = 0;
  private bytes = 0;

  constructor(private readonly member: NpzMember) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.crc = crc32(chunk, this.crc);
    this.bytes += chunk.length;
    if (this.bytes > this.member.size) return cb(new NpzFormatError(`member '${this.member.name}' extracts to more than its recorded ${this.member.size} bytes`));
    cb(null, chunk);
  }

  /** Damaged deflate data is a property of the archive (bad input), named after its member. */
  override _destroy(err: Error | null, cb: (error?: Error | null) => void) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (err && !(err instanceof NpzFormatError) && typeof code === 'string' && code.startsWith('Z_')) {
      return cb(new NpzFormatError(`member '${this.member.name}' is corrupt: its compressed data do not inflate (${err.message})`));
    }
    cb(err);
  }

  override _flush(cb: TransformCallback) {
    if (this.bytes !== this.member.size) {
      return cb(new NpzFormatError(`member '${this.member.name}' extracts to ${this.bytes} bytes, the archive records ${this.member.size}`));
    }
    if (this.crc >>> 0 !== this.member.crc32) {
      return cb(new NpzFormatError(`member '${this.member.name}' is corrupt: CRC-32 ${hex32(this.crc)}, the archive records ${hex32(this.member.crc32)}`));
    }
    cb();
  }
}

function hex32(n: number) {
  return (n >>> 0).toString(16).padStart(8, '0');
}

// zlib.crc32 exists from Node 20.15 / 22.2; a table fallback covers older Node 20 releases.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array, prev = 0): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(data, prev);
  let c = ~prev >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
