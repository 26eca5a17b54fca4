// Streaming reader and writer: chunked reads equal the whole decode whatever the input chunking,
// memory stays bounded (bounded look-ahead), and truncated / padded / odd files fail precisely.
import { Readable } from 'node:stream';
import { NpyFormatError } from '../../src/storage/errors';
import { decodeNpy, encodeNpy, formatNpyHeader, toFloat32 } from '../../src/storage/npy';
import { encodeNpyStream, readNpyRows, type NpyStreamItem, type ReadNpyRowsOptions } from '../../src/storage/npy-stream';

/** Splits bytes into chunks of the given sizes, cycling. */
function* chunked(buf: Uint8Array, sizes: number[]): Generator<Buffer> {
  for (let at = 0, i = 0; at < buf.length; i++) {
    const n = sizes[i % sizes.length];
    yield Buffer.from(buf.subarray(at, at + n));
    at += n;
  }
}

async function collect(source: AsyncIterable<Uint8Array> | Readable, opts?: ReadNpyRowsOptions) {
  const items: NpyStreamItem[] = [];
  for await (const item of readNpyRows(source, opts)) items.push(item);
  const [head, ...rows] = items;
  if (head?.kind !== 'header') throw new Error('header first');
  const chunks = rows.map((r) => {
    if (r.kind !== 'rows') throw new Error('rows after the header');
    return r;
  });
  const total = chunks.reduce((n, c) => n + c.data.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c.data, at);
    at += c.data.length;
  }
  return { header: head.header, chunks, all };
}

function values(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 8 - 60);
}

async function expectRejects(p: Promise<unknown>, message: string) {
  await expect(p).rejects.toThrow(NpyFormatError);
  await expect(p).rejects.toThrow(message);
}

describe('readNpyRows', () => {
  test.each([
    ['<f4', [1000, 37]],
    ['>f8', [301, 5, 3]],
    ['<i2', [257, 11]],
    ['|u1', [99, 2, 2, 2]],
    ['<f2', [64, 9]],
  ] as const)('%s %j in many chunks equals the whole decode', async (dtype, shape) => {
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    const file = encodeNpy({ dtype, shape, data: values(n) });
    const want = toFloat32(decodeNpy(file));
    // Odd input chunk sizes: single bytes through the header, then sizes that split rows anywhere.
    const { header, chunks, all } = await collect(Readable.from(chunked(file, [1, 1, 3, 7, 4093, 65536, 13])), { rowsPerChunk: 64 });
    expect(header.shape).toEqual(shape);
    expect(chunks.length).toBe(Math.ceil(shape[0] / 64));
    chunks.forEach((c, i) => {
      expect(c.start).toBe(i * 64);
      expect(c.count).toBe(Math.min(64, shape[0] - i * 64));
      expect(c.rowShape).toEqual(shape.slice(1));
    });
    expect(all).toEqual(want);
  });

  test('default chunking targets ~8 MiB of float32 output', async () => {
    const shape = [3000, 1000]; // 12 MB as float32: two chunks of 2097 and 903 rows
    const file = encodeNpy({ dtype: '<f4', shape, data: new Float32Array(3e6).fill(1.5) });
    const { chunks } = await collect(Readable.from(chunked(file, [1 << 20])));
    expect(chunks.map((c) => c.count)).toEqual([2097, 903]);
    const small = await collect(Readable.from(chunked(file, [1 << 20])), { targetChunkBytes: 4000 * 100 });
    expect(small.chunks[0].count).toBe(100);
  });

  test('0-d, 1-d and empty arrays', async () => {
    const zero = await collect(Readable.from([encodeNpy({ dtype: '<f8', shape: [], data: [2.5] })]));
    expect(zero.chunks).toMatchObject([{ start: 0, count: 1, rowShape: [] }]);
    expect(Array.from(zero.all)).toEqual([2.5]);

    const one = await collect(Readable.from([encodeNpy({ dtype: '<i4', shape: [5], data: [1, 2, 3, 4, 5] })]), { rowsPerChunk: 2 });
    expect(one.chunks.map((c) => Array.from(c.data))).toEqual([[1, 2], [3, 4], [5]]);

    const noRows = await collect(Readable.from([encodeNpy({ dtype: '<f4', shape: [0, 5], data: [] })]));
    expect(noRows.chunks).toEqual([]);

    const emptyRows = await collect(Readable.from([encodeNpy({ dtype: '<f4', shape: [4, 0], data: [] })]), { rowsPerChunk: 3 });
    expect(emptyRows.chunks.map((c) => [c.count, c.data.length])).toEqual([[3, 0], [1, 0]]);
  });

  test('small Fortran-ordered arrays are read whole and transposed; large ones refused', async () => {
    const shape = [20, 6, 3];
    const c = values(360);
    const fortranData = new Float64Array(360);
    // Column-major layout of the same array.
    for (let i = 0; i < 20; i++) for (let j = 0; j < 6; j++) for (let k = 0; k < 3; k++) fortranData[i + 20 * (j + 6 * k)] = c[(i * 6 + j) * 3 + k];
    const file = encodeNpy({ dtype: '<f8', shape, data: fortranData, fortranOrder: true });
    const { all, chunks } = await collect(Readable.from(chunked(file, [100])), { rowsPerChunk: 7 });
    expect(chunks.map((x) => x.count)).toEqual([7, 7, 6]);
    expect(all).toEqual(Float32Array.from(c));
    await expectRejects(
      collect(Readable.from([file]), { maxFortranBytes: 1000 }),
      'Fortran-ordered array of shape (20, 6, 3) <f8 (2880 bytes) cannot be streamed by rows and exceeds the 1000-byte limit',
    );
  });

  test('a truncated stream yields the complete chunks, then fails with the lengths', async () => {
    const file = encodeNpy({ dtype: '<f4', shape: [100, 10], data: new Float32Array(1000) });
    const cut = file.subarray(0, file.length - 4);
    const seen: number[] = [];
    const run = (async () => {
      for await (const item of readNpyRows(Readable.from(chunked(cut, [500])), { rowsPerChunk: 30 })) {
        if (item.kind === 'rows') seen.push(item.count);
      }
    })();
    await expectRejects(run, 'expected 4000 data bytes for shape (100, 10) <f4, found 3996 (data starts at byte 128)');
    expect(seen).toEqual([30, 30, 30]);
  });

  test('trailing bytes after the data are an error', async () => {
    const file = Buffer.concat([encodeNpy({ dtype: '<f4', shape: [3], data: [1, 2, 3] }), Buffer.alloc(10)]);
    await expectRejects(collect(Readable.from(chunked(file, [7]))), 'expected 12 data bytes for shape (3,) <f4, found 22');
  });

  test('with the size known, a length mismatch fails before any row is read', async () => {
    const header = formatNpyHeader({ dtype: '<f4', shape: [10000, 2000] });
    let pulled = 0;
    const source = (async function* () {
      pulled++;
      yield header;
      for (;;) {
        pulled++;
        yield Buffer.alloc(1 << 16);
      }
    })();
    await expectRejects(
      collect(source, { size: header.length + 80_000_000 - 4 }),
      'expected 80000000 data bytes for shape (10000, 2000) <f4, found 79999996',
    );
    expect(pulled).toBe(1);
  });

  test('malformed headers and non-npy input', async () => {
    await expectRejects(collect(Readable.from([Buffer.from('PK\x03\x04 not npy')])), 'bad magic at byte 0');
    await expectRejects(collect(Readable.from([Buffer.from([0x93, 0x4e, 0x55])])), 'truncated preamble: the file has 3 bytes');
    const file = encodeNpy({ dtype: '<f4', shape: [3], data: [1, 2, 3] });
    await expectRejects(collect(Readable.from([file.subarray(0, 40)])), 'header length 118 at byte 8 runs past the end of the file: the header would end at byte 128, the file has 40 bytes');
    await expectRejects(collect(Readable.from([file]), { maxHeaderBytes: 64 }), 'header length 118 at byte 8 exceeds the 64-byte limit');
  });

  test('memory stays bounded: at most one input chunk is read ahead of the rows handed out', async () => {
    const rows = 2000;
    const file = encodeNpy({ dtype: '<f4', shape: [rows, 256], data: new Float32Array(rows * 256) }); // 1 KiB rows
    let pulled = 0;
    const source = (async function* () {
      for (const c of chunked(file, [1024])) {
        pulled++;
        yield c;
      }
    })();
    let maxAhead = 0;
    for await (const item of readNpyRows(source, { rowsPerChunk: 10 })) {
      if (item.kind !== 'rows') continue;
      const bytesHandedOut = 128 + (item.start + item.count) * 1024;
      maxAhead = Math.max(maxAhead, pulled * 1024 - bytesHandedOut);
    }
    expect(maxAhead).toBeLessThanOrEqual(1024);
  });

  test('breaking out early destroys the source stream', async () => {
    const file = encodeNpy({ dtype: '<f4', shape: [1000, 10], data: new Float32Array(10000) });
    const source = Readable.from(chunked(file, [1000]));
    for await (const item of readNpyRows(source, { rowsPerChunk: 10 })) {
      if (item.kind === 'rows') break;
    }
    expect(source.destroyed).toBe(true);
  });
});

describe('encodeNpyStream', () => {
  test('equals encodeNpy whatever the chunking, and pulls chunks lazily', async () => {
    const data = Float32Array.from(values(5000));
    const want = encodeNpy({ dtype: '<f4', shape: [500, 10], data });
    let pulled = 0;
    const chunks = (function* () {
      for (let at = 0; at < data.length; at += 333) {
        pulled++;
        yield data.subarray(at, at + 333);
      }
    })();
    const stream = encodeNpyStream({ dtype: '<f4', shape: [500, 10] }, chunks);
    expect(pulled).toBe(0);
    const out: Buffer[] = [];
    for await (const c of stream) out.push(c as Buffer);
    expect(Buffer.concat(out).equals(want)).toBe(true);
  });

  test('converts dtype and byte order; the caller may reuse its chunk array', async () => {
    const reused = new Float32Array(4);
    const chunks = (function* () {
      for (let k = 0; k < 3; k++) {
        reused.set([k, k + 0.5, -k, 100 * k]);
        yield reused;
      }
    })();
    const out: Buffer[] = [];
    for await (const c of encodeNpyStream({ dtype: '>f8', shape: [3, 4] }, chunks)) out.push(c as Buffer);
    const back = decodeNpy(Buffer.concat(out));
    expect(back.dtype.descr).toBe('>f8');
    expect(Array.from(toFloat32(back))).toEqual([0, 0.5, -0, 0, 1, 1.5, -1, 100, 2, 2.5, -2, 200]);
  });

  test('wrong element counts fail the stream', async () => {
    const read = async (chunks: number[][]) => {
      for await (const _ of encodeNpyStream({ dtype: '<f4', shape: [2, 2] }, chunks)) void _;
    };
    await expect(read([[1, 2, 3]])).rejects.toThrow('npy stream for shape (2, 2) needs 4 elements, got 3');
    await expect(read([[1, 2, 3], [4, 5]])).rejects.toThrow('got more than 4 elements');
  });

  test('writer -> reader round trip over a 4 MB array', async () => {
    const rows = 2000;
    const cols = 500;
    const chunks = (function* () {
      for (let r = 0; r < rows; r += 128) {
        const n = Math.min(128, rows - r);
        yield Float32Array.from({ length: n * cols }, (_, i) => r * cols + i);
      }
    })();
    const { all, header } = await collect(encodeNpyStream({ dtype: '<f4', shape: [rows, cols] }, chunks), { rowsPerChunk: 300 });
    expect(header.shape).toEqual([rows, cols]);
    expect(all.length).toBe(rows * cols);
    expect(all[0]).toBe(0);
    expect(all[rows * cols - 1]).toBe(rows * cols - 1);
    expect(all.every((v, i) => v === i)).toBe(true);
  });
});
