/**
 * Fortran-ordered `.npy` data rewritten in C order into a file, streaming, with bounded memory.
 *
 * Rows of a Fortran-ordered array are not contiguous, so a row reader cannot stream them. But
 * the file is a sequence of columns: for shape [..., V] it holds, for each index v of the last
 * axis, the M = prod(leading axes) values of that column (the leading indices themselves in
 * Fortran order). Columns are read in blocks that fit `blockBytes`, and each block is written
 * into the C-order file with one positioned write per leading index, so memory is one block
 * (at least one column) whatever the array's size. Bytes are copied as they are: the dtype and
 * its byte order are unchanged; only the header's fortran_order becomes False.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { NpyFormatError } from './errors';
import { formatNpyHeader, parseNpyHeader, type NpyHeader } from './npy-header';

export interface FortranRewrite {
  /** The header of the C-order file written. */
  header: NpyHeader;
  /** Size of the file in bytes. */
  size: number;
}

const DEFAULT_BLOCK_BYTES = 16 * 1024 * 1024;

/**
 * Reads the data of a Fortran-ordered array from `data` (the bytes after the header, exactly
 * `header.dataBytes` of them) and writes a C-order `.npy` of the same array to `file`.
 */
export async function rewriteFortranAsC(data: Readable | AsyncIterable<Uint8Array>, header: NpyHeader, file: string, opts: { blockBytes?: number } = {}): Promise<FortranRewrite> {
  const shape = header.shape;
  const item = header.dtype.itemSize;
  const headBytes = Buffer.from(formatNpyHeader({ dtype: header.dtype, shape, fortranOrder: false }));
  const out = await open(file, 'w');
  try {
    await out.write(headBytes, 0, headBytes.length, 0);
    const cHeader = parseNpyHeader(headBytes, { fileSize: headBytes.length + header.dataBytes });
    const size = headBytes.length + header.dataBytes;
    if (shape.length < 2 || header.dataBytes === 0) {
      // 0-d and 1-d arrays are the same in both orders.
      let at = headBytes.length;
      for await (const chunk of data) {
        await out.write(chunk, 0, chunk.length, at);
        at += chunk.length;
      }
      if (at !== size) throw new NpyFormatError(`expected ${header.dataBytes} data bytes, found ${at - headBytes.length}`, header.dataOffset);
      return { header: cHeader, size };
    }
    const V = shape[shape.length - 1];
    const leading = shape.slice(0, -1);
    const M = leading.reduce((a, b) => a * b, 1);
    const columnBytes = M * item;
    const perBlock = Math.max(1, Math.min(V, Math.floor((opts.blockBytes ?? DEFAULT_BLOCK_BYTES) / columnBytes)));
    // C-order strides of the leading axes, in elements of a row of V values.
    const cStride = leading.map((_, j) => leading.slice(j + 1).reduce((a, b) => a * b, 1));
    const block = Buffer.alloc(perBlock * columnBytes);
    const row = Buffer.alloc(perBlock * item);
    // Elements are moved as whole words of their width (byte order untouched).
    // (BigUint64Array for 8 bytes: a float view could rewrite NaN payloads.)
    type Words = Uint8Array | Uint16Array | Uint32Array | BigUint64Array;
    const View = ({ 1: Uint8Array, 2: Uint16Array, 4: Uint32Array, 8: BigUint64Array } as Record<number, new (b: ArrayBufferLike, o: number, n: number) => Words>)[item];
    const blockWords: Words | undefined = View ? new View(block.buffer, block.byteOffset, block.length / item) : undefined;
    const rowWords: Words | undefined = View ? new View(row.buffer, row.byteOffset, row.length / item) : undefined;
    let filled = 0; // bytes of the current block received
    let v0 = 0; // first column of the current block
    const flush = async (k: number) => {
      // Walk the leading indices in Fortran order (axis 0 fastest), tracking the C row number.
      const idx = new Array<number>(leading.length).fill(0);
      let rowC = 0;
      for (let m = 0; m < M; m++) {
        if (blockWords && rowWords) for (let c = 0; c < k; c++) rowWords[c] = blockWords[c * M + m];
        else for (let c = 0; c < k; c++) block.copy(row, c * item, (c * M + m) * item, (c * M + m + 1) * item);
        await out.write(row, 0, k * item, headBytes.length + (rowC * V + v0) * item);
        for (let j = 0; j < leading.length; j++) {
          idx[j]++;
          rowC += cStride[j];
          if (idx[j] < leading[j]) break;
          rowC -= cStride[j] * leading[j];
          idx[j] = 0;
        }
      }
      v0 += k;
      filled = 0;
    };
    for await (const raw of data) {
      let chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      while (chunk.length > 0) {
        const k = Math.min(perBlock, V - v0);
        if (k <= 0) throw new NpyFormatError(`more than the ${header.dataBytes} data bytes the header announces`, header.dataOffset + header.dataBytes);
        const take = Math.min(chunk.length, k * columnBytes - filled);
        chunk.copy(block, filled, 0, take);
        filled += take;
        chunk = chunk.subarray(take);
        if (filled === k * columnBytes) await flush(k);
      }
    }
    const got = v0 * columnBytes + filled;
    if (v0 !== V) throw new NpyFormatError(`expected ${header.dataBytes} data bytes, found ${got}`, header.dataOffset + got);
    return { header: cHeader, size };
  } finally {
    await out.close();
  }
}
