// Reads a 4D HDF5 betas dataset (h5py order trials x Z x Y x X) in the order of its chunks: NSD's
// per-voxel chunks arrive as slabs of whole X columns across all trials; per-trial layouts as
// blocks of whole volumes. The in-process reader of hdf5-native.ts handles the common subset of
// the format; files outside it go through the HDF5 library (h5wasm, in hdf5-slabs.mjs).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Hdf5CorruptError, Hdf5Unsupported } from './hdf5-format';
import { Hdf5DatasetError, NativeHdf5 } from './hdf5-native';

const SCRIPT = path.join(__dirname, 'hdf5-slabs.mjs');

export interface Hdf5Layout {
  /** h5py order: [trials, Z, Y, X]. */
  shape: [number, number, number, number];
  dtype: string;
  chunks: number[] | null;
  order: 'voxels' | 'trials';
  /** X columns per slab ("voxels") or trials per block ("trials"). */
  step: number;
  /** "voxels" slabs are [Z, Y, w, T] (each voxel's trials together) rather than [T, Z, Y, w]. */
  trialsFastest?: boolean;
  /** Which reader: the in-process one or the HDF5 library. */
  reader?: 'native' | 'h5wasm';
}

export class Hdf5InputError extends Error {}

/** Pulls exact byte counts out of the child's stdout. */
class Bytes {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(n: number) {
    while (this.buffered < n && !this.done) {
      const s = await this.it.next();
      if (s.done) this.done = true;
      else {
        this.chunks.push(s.value);
        this.buffered += s.value.length;
      }
    }
    return this.buffered >= n;
  }

  async line(): Promise<string | null> {
    for (;;) {
      const all = Buffer.concat(this.chunks);
      const at = all.indexOf(0x0a);
      if (at >= 0) {
        this.chunks = [all.subarray(at + 1)];
        this.buffered = all.length - at - 1;
        return all.subarray(0, at).toString('utf8');
      }
      this.chunks = [all];
      if (!(await this.fill(this.buffered + 1))) return null;
    }
  }

  /** Exactly n bytes in a fresh buffer (aligned for typed-array views), or null at the end. */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) return null;
    const out = Buffer.alloc(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length, n - at);
      c.copy(out, at, 0, take);
      at += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.buffered -= n;
    return out;
  }
}

export interface Hdf5Betas {
  layout: Hdf5Layout;
  /** Slabs in file order: [from, to) along X ("voxels") or along trials ("trials"), decoded to numbers. */
  slabs(): AsyncGenerator<{ from: number; to: number; data: ArrayLike<number> }>;
  /** The reader process's peak resident memory, once every slab was read. */
  peakRssMb: number | null;
  close(): void;
}

const VIEW: Record<string, (b: Buffer) => ArrayLike<number>> = {
  '|i1': (b) => new Int8Array(b.buffer, b.byteOffset, b.length),
  '|u1': (b) => new Uint8Array(b.buffer, b.byteOffset, b.length),
  '<i2': (b) => new Int16Array(b.buffer, b.byteOffset, b.length / 2),
  '<u2': (b) => new Uint16Array(b.buffer, b.byteOffset, b.length / 2),
  '<i4': (b) => new Int32Array(b.buffer, b.byteOffset, b.length / 4),
  '<u4': (b) => new Uint32Array(b.buffer, b.byteOffset, b.length / 4),
  '<f4': (b) => new Float32Array(b.buffer, b.byteOffset, b.length / 4),
  '<f8': (b) => new Float64Array(b.buffer, b.byteOffset, b.length / 8),
};

/**
 * `wanted`: the voxels (NIfTI order, x fastest) the caller keeps; others may read as 0.
 * `library`: always use the HDF5 library (for comparing the two readers).
 */
export async function openHdf5Betas(file: string, dataset: string, slabBytes = 32 << 20, wanted: Int32Array | null = null, library = false): Promise<Hdf5Betas> {
  if (!library) {
    let native: NativeHdf5 | null = null;
    try {
      native = NativeHdf5.open(file, dataset, slabBytes, wanted);
    } catch (err) {
      if (err instanceof Hdf5DatasetError) throw new Hdf5InputError(err.message);
      if (err instanceof Hdf5CorruptError) {
        if (/no HDF5 signature/.test(err.message)) throw new Hdf5InputError('is not an HDF5 file (no HDF5 signature at its start)');
        throw new Hdf5InputError(`is not a readable HDF5 file (${err.message})`);
      }
      if (!(err instanceof Hdf5Unsupported)) throw err;
    }
    if (native) return nativeBetas(native);
  }
  const child = spawn(process.execPath, [SCRIPT, file, dataset, String(slabBytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const bytes = new Bytes(child.stdout[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const close = () => {
    if (child.exitCode === null) child.kill();
  };
  const first = await bytes.line();
  let head: Partial<Hdf5Layout> & { error?: string };
  try {
    head = JSON.parse(first ?? '');
  } catch {
    close();
    throw new Hdf5InputError(`cannot be read as HDF5 (reader exit ${await exited}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  if (head.error) {
    close();
    throw new Hdf5InputError(head.error);
  }
  const layout = { ...(head as Hdf5Layout), reader: 'h5wasm' as const };
  const [T, Z, Y, X] = layout.shape;
  const itemSize = Number(layout.dtype.slice(2));
  const view = VIEW[layout.dtype];

  async function* slabs() {
    try {
      const limit = layout.order === 'voxels' ? X : T;
      for (let a = 0; a < limit; a += layout.step) {
        const b = Math.min(limit, a + layout.step);
        const n = layout.order === 'voxels' ? T * Z * Y * (b - a) : (b - a) * Z * Y * X;
        const buf = await bytes.read(n * itemSize);
        if (!buf) throw new Hdf5InputError(`ends early: the HDF5 reader stopped at ${a} of ${limit} (exit ${await exited}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
        yield { from: a, to: b, data: view(buf) };
      }
      const trailer = await bytes.line();
      try {
        result.peakRssMb = Number(JSON.parse(trailer ?? '{}').peakRssMb) || null;
      } catch {
        result.peakRssMb = null;
      }
    } finally {
      close();
    }
  }
  const result: Hdf5Betas = { layout, slabs, close, peakRssMb: null };
  return result;
}

function nativeBetas(native: NativeHdf5): Hdf5Betas {
  const layout: Hdf5Layout = { ...native.layout, reader: 'native' };
  const view = VIEW[layout.dtype];
  let closed = false;
  const close = () => {
    if (!closed) native.close();
    closed = true;
  };
  async function* slabs() {
    try {
      for (const slab of native.slabs()) {
        yield { from: slab.from, to: slab.to, data: view(slab.bytes) };
        // Reading is synchronous: let the event loop run (downloads, progress) between slabs.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      if (err instanceof Hdf5CorruptError) throw new Hdf5InputError(`is truncated or damaged: ${err.message}`);
      throw err;
    } finally {
      close();
    }
  }
  return { layout, slabs, close, peakRssMb: null };
}
