// The part of the HDF5 file format (https://docs.hdfgroup.org/hdf5/latest/_f_m_t3.html) that
// MATLAB's and h5py's numeric datasets use: superblock v0-v3, object headers v1 and v2, groups as
// symbol tables (v1 B-tree + local heap) or compact links, and a dataset's dataspace, datatype,
// fill value, filter pipeline and layout (contiguous, compact, or chunked with a v1 B-tree index).
// Anything outside that subset throws Hdf5Unsupported, so the caller can use the full library;
// structures that point outside the file or lack their signatures throw Hdf5CorruptError.
import { readSync } from 'node:fs';

/** A valid file this reader does not handle (the general HDF5 library may). */
export class Hdf5Unsupported extends Error {}
/** Metadata that cannot be right: a truncated or damaged file. */
export class Hdf5CorruptError extends Error {}

export interface Filter {
  id: number;
  /** Optional filters may be skipped by the writer; the chunk's filter mask says so. */
  optional: boolean;
  values: number[];
}

export type Layout =
  | { kind: 'compact'; data: Buffer }
  | { kind: 'contiguous'; address: number; size: number }
  | { kind: 'chunked'; btree: number; chunk: number[] };

export interface DatasetInfo {
  shape: number[];
  /** HDF5 datatype class: 0 fixed-point, 1 floating point, others not numeric here. */
  typeClass: number;
  itemSize: number;
  signed: boolean;
  bigEndian: boolean;
  layout: Layout | null;
  filters: Filter[];
  /** The fill value's bytes when the file defines one (unwritten chunks read as it). */
  fill: Buffer | null;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const UNDEFINED = Number.MAX_SAFE_INTEGER;

interface Message {
  type: number;
  /** Bit 1: the message is stored elsewhere (shared) and this is a reference to it. */
  flags: number;
  data: Buffer;
}

/** Little-endian field reader over one buffer, with the file's offset and length sizes. */
class Cursor {
  constructor(
    readonly buf: Buffer,
    public at: number,
    private readonly file: Hdf5File,
    private readonly what: string,
  ) {}
  private need(n: number) {
    if (this.at + n > this.buf.length) throw new Hdf5CorruptError(`${this.what} ends early (needs ${this.at + n} bytes, has ${this.buf.length})`);
  }
  u8() {
    this.need(1);
    return this.buf[this.at++];
  }
  u16() {
    this.need(2);
    const v = this.buf.readUInt16LE(this.at);
    this.at += 2;
    return v;
  }
  u32() {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  uint(n: number): number {
    this.need(n);
    let v = 0;
    let allOnes = true;
    for (let i = n - 1; i >= 0; i--) {
      const b = this.buf[this.at + i];
      if (b !== 0xff) allOnes = false;
      v = v * 256 + b;
    }
    this.at += n;
    // An all-ones address is HDF5's "undefined address".
    return allOnes ? UNDEFINED : v;
  }
  offset() {
    return this.uint(this.file.offsetSize);
  }
  length() {
    return this.uint(this.file.lengthSize);
  }
  bytes(n: number) {
    this.need(n);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  skip(n: number) {
    this.need(n);
    this.at += n;
  }
}

export class Hdf5File {
  offsetSize = 8;
  lengthSize = 8;
  root = 0;

  private constructor(
    readonly fd: number,
    readonly size: number,
  ) {}

  /** Reads the superblock; throws Hdf5CorruptError when the file does not start with HDF5's signature. */
  static open(fd: number, size: number): Hdf5File {
    const f = new Hdf5File(fd, size);
    const head = f.read(0, Math.min(size, 128), 'the superblock');
    if (head.length < 8 || !head.subarray(0, 8).equals(SIGNATURE)) throw new Hdf5CorruptError('no HDF5 signature at its start');
    const version = head[8];
    if (version === 0 || version === 1) {
      const c = new Cursor(head, 13, f, 'the superblock');
      f.offsetSize = c.u8();
      f.lengthSize = c.u8();
      c.skip(1 + 2 + 2 + 4 + (version === 1 ? 4 : 0));
      f.checkSizes();
      const base = c.offset();
      if (base !== 0) throw new Hdf5Unsupported(`a base address of ${base}`);
      c.offset(); // free space
      c.offset(); // end of file
      c.offset(); // driver information
      c.offset(); // root entry's link name
      f.root = c.offset();
    } else if (version === 2 || version === 3) {
      const c = new Cursor(head, 9, f, 'the superblock');
      f.offsetSize = c.u8();
      f.lengthSize = c.u8();
      f.checkSizes();
      c.skip(1);
      const base = c.offset();
      if (base !== 0) throw new Hdf5Unsupported(`a base address of ${base}`);
      c.offset(); // superblock extension
      c.offset(); // end of file
      f.root = c.offset();
    } else throw new Hdf5Unsupported(`superblock version ${version}`);
    f.checkAddress(f.root, 'the root group');
    return f;
  }

  private checkSizes() {
    if (![2, 4, 8].includes(this.offsetSize) || ![2, 4, 8].includes(this.lengthSize)) throw new Hdf5Unsupported(`offsets of ${this.offsetSize} and lengths of ${this.lengthSize} bytes`);
  }

  checkAddress(address: number, what: string, length = 1) {
    if (address === UNDEFINED || address + length > this.size) throw new Hdf5CorruptError(`${what} at byte ${address} (${length} bytes) lies past the end of the file (${this.size} bytes): the file is truncated or damaged`);
  }

  /** Exactly `length` bytes at `address` (fewer only at the end of the file). */
  read(address: number, length: number, what: string): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, buf, got, length - got, address + got);
      if (n === 0) break;
      got += n;
    }
    if (got < length && address + length <= this.size) throw new Hdf5CorruptError(`${what}: read ${got} of ${length} bytes at byte ${address}`);
    return buf.subarray(0, got);
  }

  cursor(address: number, length: number, what: string): Cursor {
    this.checkAddress(address, what, length);
    return new Cursor(this.read(address, length, what), 0, this, what);
  }

  /** Every message of the object header at `address`, continuation blocks included. */
  messages(address: number): Message[] {
    this.checkAddress(address, 'an object header', 16);
    const head = this.read(address, 16, 'an object header');
    const out: Message[] = [];
    if (head.subarray(0, 4).toString('latin1') === 'OHDR') this.messagesV2(address, out);
    else if (head[0] === 1) this.messagesV1(address, out);
    else throw new Hdf5CorruptError(`no object header at byte ${address}`);
    return out;
  }

  private messagesV1(address: number, out: Message[]) {
    const c = this.cursor(address, 16, 'an object header');
    c.skip(2);
    let remaining = c.u16();
    c.skip(4);
    const size = c.u32();
    const blocks: [number, number][] = [[address + 16, size]];
    while (blocks.length && remaining > 0) {
      const [at, len] = blocks.shift()!;
      const b = this.cursor(at, len, 'an object header block');
      while (b.at + 8 <= len && remaining > 0) {
        const type = b.u16();
        const msgSize = b.u16();
        const flags = b.u8();
        b.skip(3);
        const data = b.bytes(msgSize);
        remaining--;
        if (type === 0x10) blocks.push(this.continuation(data));
        else out.push({ type, flags, data });
        // v1 messages are 8-byte aligned within their block.
        b.at = Math.min(len, b.at + ((8 - (b.at % 8)) % 8));
      }
    }
  }

  private messagesV2(address: number, out: Message[]) {
    const c = this.cursor(address, Math.min(64, this.size - address), 'an object header');
    c.skip(4);
    if (c.u8() !== 2) throw new Hdf5Unsupported('an object header version other than 1 or 2');
    const flags = c.u8();
    if (flags & 0x20) c.skip(16);
    if (flags & 0x10) c.skip(4);
    const size = c.uint([1, 2, 4, 8][flags & 3]);
    const creationOrder = (flags & 0x04) !== 0;
    const blocks: [number, number][] = [[address + c.at, size]];
    let first = true;
    while (blocks.length) {
      const [at, len] = blocks.shift()!;
      const b = this.cursor(at, len, 'an object header block');
      if (!first) {
        if (b.bytes(4).toString('latin1') !== 'OCHK') throw new Hdf5CorruptError(`no object header continuation at byte ${at}`);
      }
      const end = first ? len : len - 4; // a continuation block ends with its checksum
      first = false;
      while (b.at + 4 + (creationOrder ? 2 : 0) <= end) {
        const type = b.u8();
        const msgSize = b.u16();
        const flags = b.u8();
        b.skip(creationOrder ? 2 : 0);
        const data = b.bytes(msgSize);
        if (type === 0x10) blocks.push(this.continuation(data));
        else if (type !== 0) out.push({ type, flags, data });
      }
    }
  }

  private continuation(data: Buffer): [number, number] {
    const c = new Cursor(data, 0, this, 'a continuation message');
    const at = c.offset();
    const len = c.length();
    this.checkAddress(at, 'an object header continuation', len);
    return [at, len];
  }

  /** The named children of the group whose header is at `address`. */
  children(address: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.messages(address)) {
      if (m.type === 0x11) {
        const c = new Cursor(m.data, 0, this, 'a symbol table message');
        const btree = c.offset();
        const heap = c.offset();
        this.symbolTable(btree, this.localHeap(heap), out);
      } else if (m.type === 0x06) {
        const [name, target] = this.link(m.data);
        if (target !== null) out.set(name, target);
      } else if (m.type === 0x02) {
        const c = new Cursor(m.data, 0, this, 'a link info message');
        const flags = (c.u8(), c.u8());
        if (flags & 1) c.skip(8);
        if (c.offset() !== UNDEFINED) throw new Hdf5Unsupported('a group with dense link storage');
      }
    }
    return out;
  }

  private localHeap(address: number): Buffer {
    const c = this.cursor(address, 8 + 2 * this.lengthSize + this.offsetSize, 'a local heap');
    if (c.bytes(4).toString('latin1') !== 'HEAP') throw new Hdf5CorruptError(`no local heap at byte ${address}`);
    c.skip(4);
    const size = c.length();
    c.length();
    const data = c.offset();
    this.checkAddress(data, 'a local heap', size);
    return this.read(data, size, 'a local heap');
  }

  private symbolTable(address: number, heap: Buffer, out: Map<string, number>) {
    const head = this.cursor(address, 8, 'a group B-tree node');
    if (head.bytes(4).toString('latin1') === 'SNOD') {
      head.skip(2);
      const n = head.u16();
      const entry = 2 * this.offsetSize + 24;
      const c = this.cursor(address + 8, n * entry, 'a symbol table node');
      for (let i = 0; i < n; i++) {
        const nameAt = c.offset();
        const header = c.offset();
        c.skip(24);
        const end = heap.indexOf(0, nameAt);
        out.set(heap.toString('utf8', nameAt, end < 0 ? heap.length : end), header);
      }
      return;
    }
    head.at = 0;
    if (head.bytes(4).toString('latin1') !== 'TREE') throw new Hdf5CorruptError(`no group B-tree node at byte ${address}`);
    head.skip(2);
    const n = head.u16();
    const c = this.cursor(address + 8 + 2 * this.offsetSize, (2 * n + 1) * Math.max(this.offsetSize, this.lengthSize), 'a group B-tree node');
    c.length();
    for (let i = 0; i < n; i++) {
      this.symbolTable(c.offset(), heap, out);
      c.length();
    }
  }

  /** A link message's name and, for a hard link, its target (soft and external links: null). */
  private link(data: Buffer): [string, number | null] {
    const c = new Cursor(data, 0, this, 'a link message');
    c.skip(1);
    const flags = c.u8();
    const type = flags & 0x08 ? c.u8() : 0;
    if (flags & 0x04) c.skip(8);
    if (flags & 0x10) c.skip(1);
    const nameLength = c.uint(1 << (flags & 3));
    const name = c.bytes(nameLength).toString('utf8');
    return [name, type === 0 ? c.offset() : null];
  }

  /** What the object at `address` is: a group, a dataset, or something else. */
  kindOf(address: number): 'group' | 'dataset' | 'other' {
    const types = new Set(this.messages(address).map((m) => m.type));
    if (types.has(0x08)) return 'dataset';
    if (types.has(0x11) || types.has(0x06) || types.has(0x02)) return 'group';
    return 'other';
  }

  /** Every dataset's path under the group at `address` (for messages naming what a file holds). */
  datasets(address = this.root, prefix = '', depth = 0): string[] {
    const found: string[] = [];
    if (depth > 32) return found;
    for (const [name, child] of this.children(address)) {
      const kind = this.kindOf(child);
      if (kind === 'dataset') found.push(`${prefix}/${name}`);
      else if (kind === 'group') found.push(...this.datasets(child, `${prefix}/${name}`, depth + 1));
    }
    return found;
  }

  /** The header address of the object at `path` (h5py style, "/" separated), or null. */
  find(path: string): number | null {
    let at = this.root;
    for (const part of path.split('/').filter(Boolean)) {
      const next = this.children(at).get(part);
      if (next === undefined) return null;
      at = next;
    }
    return at;
  }

  /** A dataset's description from its object header. */
  dataset(address: number): DatasetInfo {
    const info: DatasetInfo = { shape: [], typeClass: -1, itemSize: 0, signed: false, bigEndian: false, layout: null, filters: [], fill: null };
    for (const m of this.messages(address)) {
      if (m.flags & 0x02 && [0x01, 0x03, 0x05, 0x08, 0x0b].includes(m.type)) throw new Hdf5Unsupported('shared (committed) dataset messages');
      if (m.type === 0x01) info.shape = this.dataspace(m.data);
      else if (m.type === 0x03) this.datatype(m.data, info);
      else if (m.type === 0x05) info.fill = this.fillValue(m.data);
      else if (m.type === 0x08) info.layout = this.layout(m.data);
      else if (m.type === 0x0b) info.filters = this.filters(m.data);
    }
    return info;
  }

  private dataspace(data: Buffer): number[] {
    const c = new Cursor(data, 0, this, 'a dataspace message');
    const version = c.u8();
    const rank = c.u8();
    c.u8();
    if (version === 1) c.skip(5);
    else if (version === 2) c.skip(1);
    else throw new Hdf5Unsupported(`dataspace version ${version}`);
    return Array.from({ length: rank }, () => c.length());
  }

  private datatype(data: Buffer, info: DatasetInfo) {
    const c = new Cursor(data, 0, this, 'a datatype message');
    const classVersion = c.u8();
    const bits = c.u8();
    c.skip(2);
    info.typeClass = classVersion & 0x0f;
    info.itemSize = c.u32();
    info.bigEndian = (bits & 1) !== 0;
    if (info.typeClass === 0) {
      info.signed = (bits & 0x08) !== 0;
      c.u16();
      if (c.u16() !== info.itemSize * 8) throw new Hdf5Unsupported('integers with padding bits');
    } else if (info.typeClass === 1) {
      // VAX order, or a float that is not IEEE single or double, is left to the full library.
      if (bits & 0x40) throw new Hdf5Unsupported('VAX-ordered floats');
      c.u16();
      const precision = c.u16();
      c.skip(4);
      const bias = c.u32();
      const ieee = (info.itemSize === 4 && precision === 32 && bias === 127) || (info.itemSize === 8 && precision === 64 && bias === 1023);
      if (!ieee) throw new Hdf5Unsupported('a floating-point type other than IEEE float32 or float64');
    }
  }

  private fillValue(data: Buffer): Buffer | null {
    const c = new Cursor(data, 0, this, 'a fill value message');
    const version = c.u8();
    if (version === 1 || version === 2) {
      c.skip(2);
      if (c.u8() === 0 && version > 1) return null;
      const size = c.u32();
      return size ? Buffer.from(c.bytes(size)) : null;
    }
    if (version === 3) {
      const flags = c.u8();
      if (!(flags & 0x20)) return null;
      const size = c.u32();
      return size ? Buffer.from(c.bytes(size)) : null;
    }
    throw new Hdf5Unsupported(`fill value version ${version}`);
  }

  private layout(data: Buffer): Layout {
    const c = new Cursor(data, 0, this, 'a layout message');
    const version = c.u8();
    if (version !== 3) throw new Hdf5Unsupported(`data layout version ${version}`);
    const kind = c.u8();
    if (kind === 0) return { kind: 'compact', data: Buffer.from(c.bytes(c.u16())) };
    if (kind === 1) return { kind: 'contiguous', address: c.offset(), size: c.length() };
    if (kind === 2) {
      const dims = c.u8();
      const btree = c.offset();
      const sizes = Array.from({ length: dims }, () => c.u32());
      return { kind: 'chunked', btree, chunk: sizes.slice(0, -1) };
    }
    throw new Hdf5Unsupported(`layout class ${kind}`);
  }

  private filters(data: Buffer): Filter[] {
    const c = new Cursor(data, 0, this, 'a filter pipeline message');
    const version = c.u8();
    const n = c.u8();
    if (version === 1) c.skip(6);
    else if (version !== 2) throw new Hdf5Unsupported(`filter pipeline version ${version}`);
    const out: Filter[] = [];
    for (let i = 0; i < n; i++) {
      const id = c.u16();
      const nameLength = version === 1 || id >= 256 ? c.u16() : 0;
      const flags = c.u16();
      const count = c.u16();
      c.skip(version === 1 ? Math.ceil(nameLength / 8) * 8 : nameLength);
      const values = Array.from({ length: count }, () => c.u32());
      if (version === 1 && count % 2) c.skip(4);
      out.push({ id, optional: (flags & 1) !== 0, values });
    }
    return out;
  }
}
