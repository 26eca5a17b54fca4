// Fortran-ordered .npy rewritten in C order while streaming: checked byte for byte against the
// C-order file numpy wrote for the same array (scripts/fixtures/npy_order.py), with blocks from
// one column up to the whole array, and streamed in small chunks.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { NpyFormatError, parseNpyHeader, rewriteFortranAsC } from '../../src/storage';

const FIX = path.join(__dirname, '../fixtures/npy-order');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'npy-fortran-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The bytes in chunks of `size`, as a network stream delivers them. */
function chunked(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

describe.each(['responses', 'betas2d', 'features'])('%s', (name) => {
  test.each([
    ['one column per block', 1],
    ['three columns per block', 3],
    ['the whole array in one block', 1 << 24],
  ])('%s, 7-byte chunks: identical to numpy C order', async (_what, columns) => {
    const f = await readFile(path.join(FIX, `${name}_f.npy`));
    const c = await readFile(path.join(FIX, `${name}_c.npy`));
    const fh = parseNpyHeader(f, { fileSize: f.length });
    const ch = parseNpyHeader(c, { fileSize: c.length });
    expect(fh.fortranOrder).toBe(true);
    const leading = fh.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const out = path.join(dir, `${name}-${columns}.npy`);
    const { header, size } = await rewriteFortranAsC(chunked(f.subarray(fh.dataOffset), 7), fh, out, { blockBytes: columns * leading * fh.dtype.itemSize });
    const written = await readFile(out);
    expect(written.length).toBe(size);
    expect(header.fortranOrder).toBe(false);
    expect(header.shape).toEqual(ch.shape);
    expect(header.dtype.descr).toBe(ch.dtype.descr);
    expect(Buffer.compare(written.subarray(header.dataOffset), c.subarray(ch.dataOffset))).toBe(0);
  });
});

test('truncated or overlong Fortran data is a format error', async () => {
  const f = await readFile(path.join(FIX, 'responses_f.npy'));
  const h = parseNpyHeader(f, { fileSize: f.length });
  const data = f.subarray(h.dataOffset);
  await expect(rewriteFortranAsC(chunked(data.subarray(0, data.length - 4), 64), h, path.join(dir, 'short.npy'))).rejects.toThrow(NpyFormatError);
  await expect(rewriteFortranAsC(chunked(Buffer.concat([data, Buffer.alloc(4)]), 64), h, path.join(dir, 'long.npy'))).rejects.toThrow(/more than/);
});
