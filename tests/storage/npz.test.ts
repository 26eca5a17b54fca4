// .npz reading: archives written by numpy (np.savez, np.savez_compressed), and archives built
// byte by byte for the zip variants and the corrupt cases.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NpzFormatError } from '../../src/storage/errors';
import { decodeNpy, encodeNpy, toFloat32 } from '../../src/storage/npy';
import { readNpyRows } from '../../src/storage/npy-stream';
import { listNpzMembers, NpzArchive, readNpzArray } from '../../src/storage/npz';
import { buildZip } from './zip-builder';

const FIXTURES = path.join(__dirname, 'fixtures');
const arange = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('archives written by numpy', () => {
  test('np.savez (stored members, ZIP64 local headers)', async () => {
    const file = path.join(FIXTURES, 'stored.npz');
    const members = await listNpzMembers(file);
    expect(members.map((m) => [m.arrayName, m.name, m.compression])).toEqual([
      ['responses', 'responses.npy', 'stored'],
      ['ids', 'ids.npy', 'stored'],
    ]);
    const responses = await readNpzArray(file, 'responses');
    expect(responses.shape).toEqual([4, 3]);
    expect(Array.from(toFloat32(responses))).toEqual(arange(12));
    const ids = await readNpzArray(file, 'ids.npy');
    expect(ids.dtype.descr).toBe('<i4');
    expect(Array.from(ids.data as Int32Array)).toEqual(arange(4));
  });

  test('np.savez_compressed (deflated members, positional arr_0)', async () => {
    const archive = await NpzArchive.open(path.join(FIXTURES, 'deflated.npz'));
    try {
      expect(archive.members.map((m) => [m.arrayName, m.compression])).toEqual([
        ['mask', 'deflated'],
        ['arr_0', 'deflated'],
      ]);
      const arr = await archive.readArray('arr_0');
      expect(arr.shape).toEqual([50, 8]);
      expect(Array.from(toFloat32(arr))).toEqual(arange(400));
      const mask = await archive.readArray('mask');
      expect(Array.from(mask.data as Uint8Array)).toEqual(arange(50).map((i) => i % 2));
      // A member streams straight into the row reader.
      let rows = 0;
      for await (const item of readNpyRows(await archive.openMember('arr_0'), { rowsPerChunk: 16 })) {
        if (item.kind === 'rows') rows += item.count;
      }
      expect(rows).toBe(50);
    } finally {
      await archive.close();
    }
  });
});

describe('zip variants built in the test', () => {
  const a = encodeNpy({ dtype: '<f4', shape: [300, 20], data: Float32Array.from(arange(6000)) });
  const b = encodeNpy({ dtype: '>i2', shape: [7], data: arange(7) });

  test.each([
    ['plain', {}, {}],
    ['ZIP64 local headers', { zip64Local: true }, {}],
    ['ZIP64 central records', { zip64Central: true }, {}],
    ['data descriptors', { dataDescriptor: true }, {}],
    ['ZIP64 end record and a comment', { zip64Local: true }, { zip64End: true, comment: 'made by a test' }],
  ])('%s, stored and deflated', async (_name, variant, opts) => {
    const zip = buildZip(
      [
        { name: 'a.npy', data: a, method: 'deflated', ...variant },
        { name: 'b.npy', data: b, method: 'stored', ...variant },
      ],
      opts,
    );
    const archive = await NpzArchive.open(zip);
    expect(archive.members.map((m) => [m.name, m.size, m.compression])).toEqual([
      ['a.npy', a.length, 'deflated'],
      ['b.npy', b.length, 'stored'],
    ]);
    expect((await archive.readMember('a')).equals(a)).toBe(true);
    expect((await archive.readMember('b')).equals(b)).toBe(true);
    await archive.close();
  });

  test('from a file path', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'npz-'));
    try {
      const file = path.join(dir, 'x.npz');
      await writeFile(file, buildZip([{ name: 'a.npy', data: a, method: 'deflated' }, { name: 'b.npy', data: b }]));
      expect(Array.from((await readNpzArray(file, 'b')).data as Int16Array)).toEqual(arange(7));
      const archive = await NpzArchive.open(file);
      expect(decodeNpy(await archive.readMember('a')).shape).toEqual([300, 20]);
      await archive.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an empty archive has no members', async () => {
    expect(await listNpzMembers(buildZip([]))).toEqual([]);
  });
});

describe('malformed archives', () => {
  const a = encodeNpy({ dtype: '<f4', shape: [10], data: new Float32Array(10) });

  test('not a zip; an .npy given as .npz', async () => {
    await expect(NpzArchive.open(Buffer.from('hello'))).rejects.toThrow('not a zip archive: no end-of-central-directory record');
    await expect(NpzArchive.open(a)).rejects.toThrow('(this is an .npy file, not an .npz)');
  });

  test('missing member lists the names', async () => {
    const archive = await NpzArchive.open(buildZip([{ name: 'x.npy', data: a }, { name: 'y.npy', data: a }]));
    expect(() => archive.member('z')).toThrow("no member 'z' in the archive (members: x, y)");
    await archive.close();
  });

  test.each(['stored', 'deflated'] as const)('CRC mismatch (%s) is detected', async (method) => {
    const archive = await NpzArchive.open(buildZip([{ name: 'x.npy', data: a, method, crc: 0x12345678 }]));
    const err = await archive.readMember('x').catch((e) => e);
    expect(err).toBeInstanceOf(NpzFormatError);
    expect(err.message).toMatch(/member 'x.npy' is corrupt: CRC-32 [0-9a-f]{8}, the archive records 12345678/);
  });

  test('unsupported compression and encryption', async () => {
    const zip = buildZip([{ name: 'x.npy', data: a }]);
    const cdAt = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const bzip = Buffer.from(zip);
    bzip.writeUInt16LE(12, cdAt + 10);
    await expect(NpzArchive.open(bzip)).rejects.toThrow("member 'x.npy' uses compression method 12; only stored (0) and deflated (8) are supported");
    const enc = Buffer.from(zip);
    enc.writeUInt16LE(enc.readUInt16LE(cdAt + 8) | 1, cdAt + 8);
    await expect(NpzArchive.open(enc)).rejects.toThrow("member 'x.npy' is encrypted");
  });

  test('truncated archive', async () => {
    const zip = buildZip([{ name: 'x.npy', data: a }]);
    await expect(NpzArchive.open(zip.subarray(0, zip.length - 30))).rejects.toThrow(NpzFormatError);
  });
});
