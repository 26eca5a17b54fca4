// Streams a NIfTI-1/2 file (.nii or .nii.gz) volume by volume: the header is parsed from the
// first bytes, then each 3D volume is decoded, scaled and handed out before the next is read, so
// a 4D file of several GB never sits in memory (one volume plus one stream chunk at a time).
//
// Hand-written because the npm readers (nifti-reader-js 0.8) parse a whole ArrayBuffer: a
// gzipped NSD session would have to be inflated whole into memory first.
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { decodeInto } from './datatypes';
import { NiftiFormatError } from './errors';
import { NIFTI1_HEADER_BYTES, NIFTI2_HEADER_BYTES, parseHeader, scaling, sniffHeader, volumeLayout, type NiftiHeader } from './header';

/** Pulls exact byte counts out of a chunked stream. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  consumed = 0;

  constructor(private readonly source: AsyncIterator<Buffer>, private readonly file: string) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.ended) {
      let step: IteratorResult<Buffer>;
      try {
        step = await this.source.next();
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        throw new NiftiFormatError(this.file, 'data', `cannot be decompressed after ${this.consumed + this.buffered} bytes (${message}); the .nii.gz is truncated or corrupt`);
      }
      if (step.done) this.ended = true;
      else if (step.value.length > 0) {
        const chunk = Buffer.isBuffer(step.value) ? step.value : Buffer.from(step.value);
        this.chunks.push(chunk);
        this.buffered += chunk.length;
      }
    }
    return this.buffered >= n;
  }

  /** Exactly n bytes, or null when the stream ends first (the bytes that were there are dropped). */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) return null;
    let out: Buffer;
    if (this.chunks[0].length >= n) {
      out = this.chunks[0].subarray(0, n);
      this.chunks[0] = this.chunks[0].subarray(n);
      if (this.chunks[0].length === 0) this.chunks.shift();
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.chunks[0];
        const take = Math.min(c.length, n - at);
        c.copy(out, at, 0, take);
        at += take;
        if (take === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(take);
      }
    }
    this.buffered -= n;
    this.consumed += n;
    return out;
  }

  get available(): number {
    return this.buffered;
  }
}

export interface NiftiReader {
  file: string;
  header: NiftiHeader;
  shape3d: [number, number, number];
  nVolumes: number;
  /**
   * Each 3D volume in turn, scaled (slope/intercept), flattened in NIfTI order (x fastest:
   * index = i + nx * (j + ny * k)). The same Float32Array is reused: copy what you keep.
   */
  volumes(): AsyncGenerator<Float32Array, void, undefined>;
  close(): void;
}

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** The header (and any extensions up to vox_offset) off the front of the byte stream. */
async function readHeader(queue: ByteQueue, file: string): Promise<NiftiHeader> {
  const start = await queue.read(4);
  if (!start) throw new NiftiFormatError(file, 'sizeof_hdr', 'ends before its header');
  const sniff = sniffHeader(start);
  if (!sniff) throw new NiftiFormatError(file, 'sizeof_hdr', `is not a NIfTI file: sizeof_hdr is ${start.readInt32LE(0)}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`);
  const headerBytes = sniff.version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  const rest = await queue.read(headerBytes - 4);
  if (!rest) throw new NiftiFormatError(file, 'sizeof_hdr', `ends inside its ${headerBytes}-byte header`);
  const header = parseHeader(Buffer.concat([start, rest]), file);
  // Extensions (if any) lie between the header and vox_offset; they are skipped.
  const skip = header.voxOffset - headerBytes;
  if (skip > 0 && !(await queue.read(skip)))
    throw new NiftiFormatError(file, 'vox_offset', `ends before vox_offset ${header.voxOffset}`, { voxOffset: header.voxOffset });
  return header;
}

/** Opens a NIfTI stream (gzip detected from its first bytes, whatever the file name says). */
export async function openNifti(input: Readable | AsyncIterable<Buffer>, file: string): Promise<NiftiReader> {
  const raw = input instanceof Readable ? input : Readable.from(input);
  const rawIt = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // Peek the first chunk to tell gzip from plain bytes, then put it back in front.
  const first = await rawIt.next();
  if (first.done) throw new NiftiFormatError(file, 'sizeof_hdr', 'is empty');
  const head: Buffer = first.value;
  async function* replay(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const s = await rawIt.next();
      if (s.done) return;
      yield s.value;
    }
  }
  // The chain (source, replayed bytes, gunzip) is one pipeline, so an error anywhere destroys the
  // rest; stopping early (one volume of a mask, a refused file) abandons it, and a read still in
  // flight on the source then fails with "premature close", which nobody is waiting for.
  const ignore = () => undefined;
  raw.on('error', ignore);
  const replayed = Readable.from(replay());
  replayed.on('error', ignore);
  const stream: Readable = isGzip(head) ? pipeline(replayed, createGunzip(), ignore) : replayed;
  stream.on('error', ignore);
  const destroy = () => {
    stream.destroy();
    replayed.destroy();
    raw.destroy();
  };
  const queue = new ByteQueue(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>, file);
  const header = await readHeader(queue, file).catch((err) => {
    destroy();
    throw err;
  });
  const { shape3d, voxelsPerVolume, nVolumes } = volumeLayout(header);
  const bytesPerVolume = voxelsPerVolume * header.datatype.bytes;
  const scale = scaling(header);

  async function* volumes(): AsyncGenerator<Float32Array, void, undefined> {
    const out = new Float32Array(voxelsPerVolume);
    // Decoding through float64 keeps int32/float64 exact before the one rounding to float32.
    const wide = header.datatype.bytes >= 4 || scale ? new Float64Array(voxelsPerVolume) : null;
    try {
      for (let v = 0; v < nVolumes; v++) {
        const bytes = await queue.read(bytesPerVolume);
        if (!bytes)
          throw new NiftiFormatError(
            file,
            'dim',
            `header dim [${header.dims.join(', ')}] promises ${nVolumes} volume(s) of ${bytesPerVolume} bytes but the data ends in volume ${v} (${queue.consumed + queue.available - header.voxOffset} data bytes)`,
            { dim: header.dims, volume: v },
          );
        if (wide) {
          decodeInto(bytes, 0, voxelsPerVolume, header.datatype, header.littleEndian, wide, file);
          if (scale) for (let i = 0; i < voxelsPerVolume; i++) out[i] = wide[i] * scale.slope + scale.inter;
          else out.set(wide);
        } else {
          decodeInto(bytes, 0, voxelsPerVolume, header.datatype, header.littleEndian, out, file);
        }
        yield out;
      }
    } finally {
      destroy();
    }
  }

  return { file, header, shape3d, nVolumes, volumes, close: destroy };
}

/** A whole 3D volume (masks, label volumes: small), scaled, in NIfTI order. */
export async function readSingleVolume(input: Readable | AsyncIterable<Buffer>, file: string): Promise<{ header: NiftiHeader; shape: [number, number, number]; data: Float32Array }> {
  const reader = await openNifti(input, file);
  if (reader.nVolumes !== 1) {
    reader.close();
    throw new NiftiFormatError(file, 'dim', `holds ${reader.nVolumes} volumes (dim [${reader.header.dims.join(', ')}]); a single 3D volume is expected`, {
      dim: reader.header.dims,
    });
  }
  for await (const volume of reader.volumes()) return { header: reader.header, shape: reader.shape3d, data: Float32Array.from(volume) };
  throw new NiftiFormatError(file, 'dim', 'holds no volume');
}
