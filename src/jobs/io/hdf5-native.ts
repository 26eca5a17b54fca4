// Reads a 4D betas dataset (h5py order trials x Z x Y x X) in-process from the common HDF5 subset
// of hdf5-format.ts, in slabs like hdf5-slabs.mjs's: per-voxel chunks ([T, ...]) as slabs of whole
// X columns, other layouts as blocks of whole trial volumes. The chunk index is read once; each
// slab's chunks are read in file order, neighbours coalesced into one read, and copied into the
// slab, so a session costs about one pass over the file instead of one library call per chunk
// (measured in README's session import section). Voxel slabs come out [Z, Y, x0:x1, T], trials
// fastest, which is both how per-voxel chunks are stored and how the importer consumes them.
// Given the voxels the caller keeps (a brain mask: NSD's is a few percent of the volume), chunks
// holding none of them are not read at all; those voxels read as the fill value.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { readChunkIndex, type ChunkIndex } from './hdf5-chunk-index';
import { Hdf5CorruptError, Hdf5File, Hdf5Unsupported, type DatasetInfo, type Filter } from './hdf5-format';

/** Neighbouring chunks closer than this are read together (a read costs about as much as copying this many bytes). */
const GAP = 64 << 10;
const MAX_READ = 8 << 20;
const FILTERS: Record<number, string> = { 1: 'deflate', 2: 'shuffle', 3: 'fletcher32' };

export interface NativeLayout {
  shape: [number, number, number, number];
  dtype: string;
  chunks: number[] | null;
  order: 'voxels' | 'trials';
  step: number;
  /** Voxel slabs are [Z, Y, w, T] (trials fastest). */
  trialsFastest: boolean;
}

export interface NativeSlab {
  from: number;
  to: number;
  bytes: Buffer;
}

export class Hdf5DatasetError extends Error {}

function descrOf(info: DatasetInfo): string | null {
  const s = info.itemSize;
  // Big-endian data is swapped as it is read: every slab comes out little-endian.
  const order = s === 1 ? '|' : '<';
  if (info.typeClass === 1) return s === 4 || s === 8 ? `${order}f${s}` : null;
  if (info.typeClass === 0 && [1, 2, 4].includes(s)) return `${order}${info.signed ? 'i' : 'u'}${s}`;
  return null;
}

/** Undoes HDF5's byte shuffle: byte k of every element was stored in the k-th block. */
function unshuffle(src: Buffer, itemSize: number): Buffer {
  const n = Math.floor(src.length / itemSize);
  if (itemSize <= 1 || n <= 1) return src;
  const out = Buffer.allocUnsafe(src.length);
  for (let k = 0; k < itemSize; k++) {
    const base = k * n;
    for (let i = 0; i < n; i++) out[i * itemSize + k] = src[base + i];
  }
  src.copy(out, n * itemSize, n * itemSize);
  return out;
}

export class NativeHdf5 {
  readonly layout: NativeLayout;
  private readonly fd: number;
  private index: ChunkIndex | null = null;
  /** wanted[x + X * (y + Y * z)]: 1 where the caller needs the voxel; chunks with none are not read. */
  private wanted: Uint8Array | null = null;

  private constructor(
    private readonly file: Hdf5File,
    private readonly info: DatasetInfo,
    layout: NativeLayout,
  ) {
    this.fd = file.fd;
    this.layout = layout;
  }

  /**
   * Opens `datasetPath` in `path`. Throws Hdf5DatasetError for a file that is readable but holds
   * no usable betas, Hdf5CorruptError for a damaged one, Hdf5Unsupported for features outside the
   * subset read here (the caller then uses the full library).
   */
  static open(path: string, datasetPath: string, slabBytes: number, wanted: Int32Array | null = null): NativeHdf5 {
    const fd = openSync(path, 'r');
    try {
      const file = Hdf5File.open(fd, fstatSync(fd).size);
      const at = file.find(datasetPath);
      if (at === null || file.kindOf(at) !== 'dataset') {
        throw new Hdf5DatasetError(`has no dataset ${JSON.stringify(datasetPath)}; it holds: ${file.datasets().join(', ') || 'no datasets'}`);
      }
      const info = file.dataset(at);
      const dtype = descrOf(info);
      if (!dtype) throw new Hdf5DatasetError(`dataset ${datasetPath} has HDF5 type class ${info.typeClass} of ${info.itemSize} bytes; betas must be integers of 1-4 bytes or float32/float64`);
      if (info.shape.length !== 4) throw new Hdf5DatasetError(`dataset ${datasetPath} has shape [${info.shape.join(', ')}]; expected 4 axes, trials x Z x Y x X (h5py order)`);
      if (!info.layout) throw new Hdf5CorruptError(`dataset ${datasetPath} has no data layout`);
      for (const f of info.filters) if (!FILTERS[f.id]) throw new Hdf5Unsupported(`filter ${f.id}`);
      const [T, Z, Y, X] = info.shape as [number, number, number, number];
      const chunks = info.layout.kind === 'chunked' ? info.layout.chunk : null;
      if (chunks && (chunks.length !== 4 || chunks.some((c) => c < 1))) throw new Hdf5CorruptError(`dataset ${datasetPath} has chunks of shape [${chunks.join(', ')}] for a 4-axis shape`);
      const perVoxel = chunks !== null && chunks[0] === T;
      let step;
      if (perVoxel) {
        const cx = chunks[3];
        const columns = Math.floor(slabBytes / (T * Z * Y * info.itemSize));
        step = Math.min(X, Math.max(cx, Math.floor(columns / cx) * cx));
      } else {
        const along = chunks ? chunks[0] : 1;
        const volumes = Math.floor(slabBytes / (Z * Y * X * info.itemSize));
        step = Math.min(T, Math.max(along, Math.floor(volumes / along) * along));
      }
      const layout: NativeLayout = { shape: [T, Z, Y, X], dtype, chunks, order: perVoxel ? 'voxels' : 'trials', step: Math.max(1, step), trialsFastest: perVoxel };
      const reader = new NativeHdf5(file, info, layout);
      if (wanted) {
        reader.wanted = new Uint8Array(Z * Y * X);
        for (const v of wanted) reader.wanted[v] = 1;
      }
      if (chunks) {
        const expected = Math.ceil(T / chunks[0]) * Math.ceil(Z / chunks[1]) * Math.ceil(Y / chunks[2]) * Math.ceil(X / chunks[3]);
        reader.index = info.layout.kind === 'chunked' && info.layout.btree < Number.MAX_SAFE_INTEGER ? readChunkIndex(file, info.layout.btree, 4, expected) : null;
        const index = reader.index;
        for (let i = 0; index && i < index.count * 4; i++) {
          if (index.origin[i] % chunks[i % 4] !== 0) throw new Hdf5CorruptError(`chunk ${Math.floor(i / 4) + 1} starts at element ${index.origin[i]} of axis ${i % 4}, not on the chunk grid`);
        }
      }
      return reader;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** A slab's buffer before any chunk is copied in: the fill value (0 unless the file sets one). */
  private blank(elements: number): Buffer {
    const s = this.info.itemSize;
    const bytes = Buffer.alloc(elements * s);
    const fill = this.info.fill;
    if (fill && fill.length === s && fill.some((b) => b !== 0)) bytes.fill(fill);
    return bytes;
  }

  *slabs(): Generator<NativeSlab> {
    const { order, step, shape } = this.layout;
    const limit = order === 'voxels' ? shape[3] : shape[0];
    const bySlab = this.index ? this.groupChunks(limit) : null;
    for (let a = 0, k = 0; a < limit; a += step, k++) {
      const b = Math.min(limit, a + step);
      const bytes = bySlab ? this.chunkedSlab(a, b, bySlab[k]) : this.unchunkedSlab(a, b);
      const s = this.info.itemSize;
      if (this.info.bigEndian && s > 1) {
        if (s === 2) bytes.swap16();
        else if (s === 4) bytes.swap32();
        else bytes.swap64();
      }
      yield { from: a, to: b, bytes };
    }
  }

  /** Chunk numbers of each slab, each list in file order. */
  private groupChunks(limit: number): Uint32Array[] {
    const index = this.index!;
    const axis = this.layout.order === 'voxels' ? 3 : 0;
    const n = Math.ceil(limit / this.layout.step);
    const counts = new Uint32Array(n);
    const slabOf = new Int32Array(index.count);
    for (let i = 0; i < index.count; i++) {
      if (this.wanted && !this.needed(i)) {
        slabOf[i] = -1;
        continue;
      }
      const k = Math.floor(index.origin[i * 4 + axis] / this.layout.step);
      // Chunks outside the dataset's extent (after a shrink) are not part of it.
      slabOf[i] = k < n ? k : -1;
      if (k < n) counts[k]++;
    }
    const lists = Array.from(counts, (c) => new Uint32Array(c));
    const filled = new Uint32Array(n);
    for (let i = 0; i < index.count; i++) if (slabOf[i] >= 0) lists[slabOf[i]][filled[slabOf[i]]++] = i;
    const address = index.address;
    for (const list of lists) list.sort((x, y) => address[x] - address[y]);
    return lists;
  }

  /** Whether chunk i holds any wanted voxel. */
  private needed(i: number): boolean {
    const [, Z, Y, X] = this.layout.shape;
    const c = this.layout.chunks!;
    const o = this.index!.origin;
    const z0 = o[i * 4 + 1];
    const y0 = o[i * 4 + 2];
    const x0 = o[i * 4 + 3];
    for (let z = z0; z < Math.min(Z, z0 + c[1]); z++)
      for (let y = y0; y < Math.min(Y, y0 + c[2]); y++)
        for (let x = x0; x < Math.min(X, x0 + c[3]); x++) if (this.wanted![x + X * (y + Y * z)]) return true;
    return false;
  }

  private unchunkedSlab(a: number, b: number): Buffer {
    const [, Z, Y, X] = this.layout.shape;
    const s = this.info.itemSize;
    const volume = Z * Y * X * s;
    const out = this.blank((b - a) * Z * Y * X);
    const layout = this.info.layout!;
    if (layout.kind === 'compact') layout.data.copy(out, 0, a * volume, b * volume);
    else if (layout.kind === 'contiguous') {
      // Never written: all fill value.
      if (layout.address >= Number.MAX_SAFE_INTEGER) return out;
      if (layout.size < this.layout.shape[0] * volume) throw new Hdf5CorruptError(`the dataset's storage holds ${layout.size} bytes, fewer than its shape needs`);
      this.file.checkAddress(layout.address + a * volume, 'the dataset', out.length);
      const got = this.file.read(layout.address + a * volume, out.length, 'the dataset');
      got.copy(out);
    }
    return out;
  }

  private chunkedSlab(a: number, b: number, chunks: Uint32Array): Buffer {
    const [T, Z, Y, X] = this.layout.shape;
    const voxels = this.layout.order === 'voxels';
    const w = b - a;
    const out = this.blank(voxels ? T * Z * Y * w : w * Z * Y * X);
    const index = this.index!;
    const chunkShape = this.layout.chunks!;
    // Destination strides in elements for axes t, z, y, x, and the slab's own origin.
    const strides = voxels ? [1, Y * w * T, w * T, T] : [Z * Y * X, Y * X, X, 1];
    const start = voxels ? [0, 0, 0, a] : [a, 0, 0, 0];
    const extent = voxels ? [T, Z, Y, b] : [b, Z, Y, X];
    let i = 0;
    while (i < chunks.length) {
      // One read covers this chunk and any that follow within GAP bytes, up to MAX_READ.
      const first = chunks[i];
      const from = index.address[first];
      let to = from + index.size[first];
      let j = i + 1;
      while (j < chunks.length) {
        const c = chunks[j];
        const end = index.address[c] + index.size[c];
        if (index.address[c] > to + GAP || end - from > MAX_READ) break;
        to = Math.max(to, end);
        j++;
      }
      const block = this.file.read(from, to - from, 'a chunk');
      if (block.length < to - from) throw new Hdf5CorruptError(`a chunk at byte ${from} runs past the end of the file: the file is truncated`);
      for (let k = i; k < j; k++) {
        const c = chunks[k];
        const at = index.address[c] - from;
        const raw = this.decode(block.subarray(at, at + index.size[c]), index.mask[c], c);
        const origin = [0, 1, 2, 3].map((d) => index.origin[c * 4 + d]);
        scatter(raw, chunkShape, origin, start, extent, strides, this.info.itemSize, out);
      }
      i = j;
    }
    return out;
  }

  private decode(stored: Buffer, mask: number, chunk: number): Buffer {
    const s = this.info.itemSize;
    const want = this.layout.chunks!.reduce((p, d) => p * d, s);
    let data = stored;
    const filters: Filter[] = this.info.filters;
    for (let k = filters.length - 1; k >= 0; k--) {
      if (mask & (1 << k)) continue;
      const f = filters[k];
      if (f.id === 1) {
        try {
          data = inflateSync(data);
        } catch (err) {
          throw new Hdf5CorruptError(`chunk ${chunk + 1} cannot be decompressed (${(err as Error).message}): the file is damaged`);
        }
      } else if (f.id === 2) data = unshuffle(data, f.values[0] || s);
      else if (f.id === 3) data = data.subarray(0, data.length - 4);
    }
    if (data.length !== want) throw new Hdf5CorruptError(`chunk ${chunk + 1} holds ${data.length} bytes where ${want} were expected: the file is damaged`);
    return data;
  }
}

/**
 * Copies one chunk (C order, `shape`, first element at `origin`) into `out`: element (t, z, y, x)
 * goes to sum((p[d] - start[d]) * strides[d]) for p within [start, extent) (edge chunks reach past
 * the dataset). Whole runs are copied with one memcpy where source and destination both are contiguous.
 */
function scatter(src: Buffer, shape: number[], origin: number[], start: number[], extent: number[], strides: number[], s: number, out: Buffer) {
  const n = [0, 1, 2, 3].map((d) => Math.max(0, Math.min(shape[d], extent[d] - origin[d])));
  const base = [0, 1, 2, 3].reduce((acc, d) => acc + (origin[d] - start[d]) * strides[d], 0);
  if (n.some((v) => v === 0)) return;
  const [s0, s1, s2, s3] = strides;
  if (shape[1] === 1 && shape[2] === 1 && shape[3] === 1 && s0 === 1) {
    src.copy(out, base * s, 0, n[0] * s);
    return;
  }
  for (let t = 0; t < n[0]; t++)
    for (let z = 0; z < n[1]; z++)
      for (let y = 0; y < n[2]; y++) {
        const from = ((t * shape[1] + z) * shape[2] + y) * shape[3] * s;
        const to = (base + t * s0 + z * s1 + y * s2) * s;
        if (s3 === 1) src.copy(out, to, from, from + n[3] * s);
        else for (let x = 0; x < n[3]; x++) for (let k = 0; k < s; k++) out[to + x * s3 * s + k] = src[from + x * s + k];
      }
}
