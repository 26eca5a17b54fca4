/**
 * Streaming `.npy` reading and writing with bounded memory, for arrays too large to buffer
 * (an 800 MB response array on the API, voxel batches in a worker).
 *
 * Reading yields whole leading-axis slices ("rows": for a (time, voxel) array, blocks of time
 * points) converted to float32, so consumers never see a row split across chunks. Memory is one
 * output chunk plus at most one input chunk of look-ahead (plus a scratch buffer of one chunk for
 * non-float32 dtypes).
 */
import { Readable } from 'node:stream';
import { NpyFormatError } from './errors';
import {
  coerceToDtype,
  resolveDtype,
  swapBytesInPlace,
  typedArrayToBytes,
  typedArrayToFloat32,
  bytesToTypedArray,
  type NpyDtype,
} from './npy-dtype';
import { dataLengthMessage, formatNpyHeader, formatShape, parseNpyHeader, parseNpyPreamble, type NpyHeader } from './npy-header';
import { fortranToC } from './npy';

export type NpyStreamItem =
  | { kind: 'header'; header: NpyHeader }
  | {
      kind: 'rows';
      /** Index of the first row (leading-axis position) in this chunk. */
      start: number;
      /** Rows in this chunk (>= 1). */
      count: number;
      /** Shape of one row: header.shape without the leading axis ([] for 1-d and 0-d arrays). */
      rowShape: number[];
      /** count * prod(rowShape) float32 values, C order. Owned by the consumer. */
      data: Float32Array;
    };

export interface ReadNpyRowsOptions {
  /** Rows per chunk. Default: as many as fit in `targetChunkBytes` of float32 output, at least 1. */
  rowsPerChunk?: number;
  /** Output bytes per chunk when rowsPerChunk is not given. Default 8 MiB. */
  targetChunkBytes?: number;
  /** Total stream length in bytes when known (e.g. from stat): the data length is checked up front. */
  size?: number;
  /**
   * Rows of a Fortran-ordered array are not contiguous in the file, so such an array can only be
   * read whole; allowed up to this many data bytes (default 64 MiB), refused above.
   */
  maxFortranBytes?: number;
  /** Largest header accepted (default 1 MiB; numpy writes well under 1 KiB). */
  maxHeaderBytes?: number;
}

const MiB = 1024 * 1024;

/** FIFO of byte chunks that can hand out exactly n bytes at a time without concatenating all. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes already consumed from chunks[0]
  length = 0;

  push(chunk: Uint8Array) {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Copies the first n bytes into target (or a new array) and drops them from the queue. */
  take(n: number, target: Uint8Array = new Uint8Array(n)): Uint8Array {
    let written = 0;
    while (written < n) {
      const first = this.chunks[0];
      const avail = first.length - this.head;
      const k = Math.min(avail, n - written);
      target.set(first.subarray(this.head, this.head + k), written);
      written += k;
      this.head += k;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.length -= n;
    return target;
  }

  /** The first n bytes without consuming them (copies only if they span chunks). */
  peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let written = 0;
    let h = this.head;
    for (const c of this.chunks) {
      if (written >= n) break;
      const k = Math.min(c.length - h, n - written);
      out.set(c.subarray(h, h + k), written);
      written += k;
      h = 0;
    }
    return out;
  }
}

/**
 * Reads an `.npy` stream: yields `{kind: 'header'}` first, then `{kind: 'rows'}` chunks of whole
 * leading-axis slices as float32 in C order, in file order. A 0-d array yields one chunk with
 * count 1 and rowShape []. Throws NpyFormatError on a malformed header or when the stream holds
 * fewer or more data bytes than the header promises (after yielding the rows that were complete).
 * Breaking out of the loop destroys the source stream.
 */
export async function* readNpyRows(
  source: AsyncIterable<Uint8Array> | Readable,
  opts: ReadNpyRowsOptions = {},
): AsyncGenerator<NpyStreamItem, void, undefined> {
  const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const queue = new ByteQueue();
  let ended = false;
  let received = 0;
  const pull = async (): Promise<boolean> => {
    if (ended) return false;
    const r = await it.next();
    if (r.done) {
      ended = true;
      return false;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    received += chunk.length;
    queue.push(chunk);
    return true;
  };

  try {
    // Header: wait for the preamble, then for the whole dict.
    const maxHeader = opts.maxHeaderBytes ?? MiB;
    let pre: ReturnType<typeof parseNpyPreamble>;
    for (;;) {
      pre = parseNpyPreamble(queue.peek(Math.min(queue.length, 12)));
      if (pre || !(await pull())) break;
    }
    if (!pre) {
      parseNpyHeader(queue.peek(queue.length)); // throws the precise truncation message
      throw new NpyFormatError('truncated preamble', queue.length);
    }
    if (pre.headerLength > maxHeader) {
      throw new NpyFormatError(
        `header length ${pre.headerLength} at byte 8 exceeds the ${maxHeader}-byte limit for streamed reading`,
        8,
      );
    }
    while (queue.length < pre.dataOffset && (await pull()));
    if (queue.length < pre.dataOffset) {
      parseNpyHeader(queue.peek(queue.length)); // header runs past the end: precise message
    }
    const header = parseNpyHeader(queue.take(pre.dataOffset), { fileSize: opts.size ?? null });
    yield { kind: 'header', header };

    const { shape, dtype } = header;
    const rows = shape.length === 0 ? 1 : shape[0];
    const rowShape = shape.slice(1);
    const rowElems = rowShape.reduce((a, b) => a * b, 1);
    const rowBytes = rowElems * dtype.itemSize;
    let dataSeen = 0; // data bytes consumed so far

    const fail = (found: number): never => {
      throw new NpyFormatError(dataLengthMessage(header, found), header.dataOffset + Math.min(found, header.dataBytes));
    };
    // Fills the queue up to n bytes; on early end, reports the data length actually present.
    const need = async (n: number) => {
      while (queue.length < n && (await pull()));
      if (queue.length < n) fail(dataSeen + queue.length);
    };

    if (header.fortranOrder && shape.length > 1) {
      const limit = opts.maxFortranBytes ?? 64 * MiB;
      if (header.dataBytes > limit) {
        throw new NpyFormatError(
          `Fortran-ordered array of shape ${formatShape(shape)} ${dtype.descr} (${header.dataBytes} bytes) cannot be streamed by rows ` +
            `and exceeds the ${limit}-byte limit for reading it whole; save it in C order (np.ascontiguousarray) instead`,
          header.dataOffset,
        );
      }
      await need(header.dataBytes);
      const bytes = queue.take(header.dataBytes);
      dataSeen += header.dataBytes;
      const all = fortranToC(typedArrayToFloat32(bytesToTypedArray(bytes, dtype), dtype), shape);
      await drainAndCheck();
      const per = chunkRows(rows);
      for (let start = 0; start < rows; start += per) {
        const count = Math.min(per, rows - start);
        yield { kind: 'rows', start, count, rowShape, data: all.slice(start * rowElems, (start + count) * rowElems) };
      }
      return;
    }

    const per = chunkRows(rows);
    let scratch: Uint8Array | undefined;
    for (let start = 0; start < rows; start += per) {
      const count = Math.min(per, rows - start);
      const n = count * rowBytes;
      await need(n);
      const out = new Float32Array(count * rowElems);
      if (dtype.name === 'float32' && dtype.littleEndian) {
        queue.take(n, new Uint8Array(out.buffer));
      } else {
        if (!scratch || scratch.length < n) scratch = new Uint8Array(n);
        const bytes = queue.take(n, scratch.subarray(0, n));
        if (!dtype.littleEndian) swapBytesInPlace(bytes, dtype.itemSize);
        typedArrayToFloat32(bytesToTypedArray(bytes, { ...dtype, littleEndian: true }), dtype, out);
      }
      dataSeen += n;
      yield { kind: 'rows', start, count, rowShape, data: out };
    }
    await drainAndCheck();

    function chunkRows(total: number): number {
      if (opts.rowsPerChunk !== undefined) {
        if (!Number.isSafeInteger(opts.rowsPerChunk) || opts.rowsPerChunk < 1) {
          throw new RangeError(`rowsPerChunk must be a positive integer, got ${opts.rowsPerChunk}`);
        }
        return opts.rowsPerChunk;
      }
      const target = opts.targetChunkBytes ?? 8 * MiB;
      return Math.max(1, Math.min(Math.max(total, 1), Math.floor(target / Math.max(rowElems * 4, 1))));
    }

    // After the last row the stream must end: trailing bytes mean the header lied. They are
    // counted (and dropped) to the end so the message reports the real length.
    async function drainAndCheck() {
      while (queue.length === 0 && (await pull()));
      if (queue.length === 0) return;
      while (queue.length > 0) {
        queue.take(queue.length);
        await pull();
      }
      fail(received - header.dataOffset);
    }
  } finally {
    if (!ended) await it.return?.();
  }
}

/**
 * Writes an `.npy` stream from chunks of elements, for piping into ArtifactStore.putStream
 * without holding the array. Chunks may split rows anywhere; their total element count must
 * equal prod(shape) or the stream errors at the end. Values are converted to `dtype`; each
 * chunk is copied once, so callers may reuse their arrays. Backpressure: chunks are pulled
 * only as fast as the consumer reads.
 */
export function encodeNpyStream(
  opts: { dtype: string | NpyDtype; shape: readonly number[]; fortranOrder?: boolean },
  chunks: AsyncIterable<ArrayLike<number | bigint | boolean>> | Iterable<ArrayLike<number | bigint | boolean>>,
): Readable {
  const dtype = resolveDtype(opts.dtype);
  const header = formatNpyHeader({ dtype, shape: opts.shape, fortranOrder: opts.fortranOrder });
  const expected = opts.shape.reduce((a, b) => a * b, 1);
  async function* generate() {
    yield header;
    let written = 0;
    for await (const chunk of chunks as AsyncIterable<ArrayLike<number | bigint | boolean>>) {
      written += chunk.length;
      if (written > expected) {
        throw new RangeError(`npy stream for shape ${formatShape(opts.shape)} got more than ${expected} elements`);
      }
      if (chunk.length > 0) yield toOwnedBuffer(chunk, dtype);
    }
    if (written !== expected) {
      throw new RangeError(`npy stream for shape ${formatShape(opts.shape)} needs ${expected} elements, got ${written}`);
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

/** File bytes of a chunk in a buffer the caller cannot mutate later (so callers may reuse arrays). */
function toOwnedBuffer(chunk: ArrayLike<number | bigint | boolean>, dtype: NpyDtype): Buffer {
  const bytes = typedArrayToBytes(coerceToDtype(chunk, dtype), dtype);
  const shared = ArrayBuffer.isView(chunk) && bytes.buffer === chunk.buffer;
  return shared ? Buffer.from(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
