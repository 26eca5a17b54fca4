// The HDF5 betas readers against files written by h5py (scripts/fixtures/hdf5_reader_fixtures.py,
// whose expected.json holds the values h5py wrote): the in-process reader for the subset it
// handles, h5wasm for the rest and as a second reader of the same files, and clear errors for
// files that are not HDF5, lack the dataset, hold the wrong shape or type, or are cut or damaged.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hdf5InputError, openHdf5Betas, type Hdf5Betas } from '../../src/jobs/io/hdf5-betas';

const DIR = path.join(__dirname, '..', 'fixtures', 'hdf5');
const expected: Record<string, { dataset: string; shape: number[]; dtype: string; values: number[] }> = JSON.parse(readFileSync(path.join(DIR, 'expected.json'), 'utf8'));

/** Every value of the dataset in h5py's C order, put back together from the slabs. */
async function assemble(betas: Hdf5Betas): Promise<number[]> {
  const [T, Z, Y, X] = betas.layout.shape;
  const out = new Array<number>(T * Z * Y * X).fill(NaN);
  for await (const slab of betas.slabs()) {
    const w = slab.to - slab.from;
    for (let t = 0; t < T; t++)
      for (let z = 0; z < Z; z++)
        for (let y = 0; y < Y; y++)
          for (let x = 0; x < X; x++) {
            let at: number;
            if (betas.layout.order === 'trials') {
              if (t < slab.from || t >= slab.to) continue;
              at = (((t - slab.from) * Z + z) * Y + y) * X + x;
            } else {
              if (x < slab.from || x >= slab.to) continue;
              at = betas.layout.trialsFastest ? ((z * Y + y) * w + (x - slab.from)) * T + t : ((t * Z + z) * Y + y) * w + (x - slab.from);
            }
            out[((t * Z + z) * Y + y) * X + x] = slab.data[at];
          }
  }
  return out;
}

async function error(file: string, dataset = 'betas'): Promise<string> {
  let err: unknown = null;
  try {
    await assemble(await openHdf5Betas(file, dataset));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(Hdf5InputError);
  return (err as Error).message;
}

describe('HDF5 betas', () => {
  let tmp: string;
  beforeAll(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'hdf5-betas-'))));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const names = Object.keys(expected);
  it.each(names)('%s: both readers give the values h5py wrote', async (name) => {
    const e = expected[name];
    const file = path.join(DIR, name);
    // Small slabs, so every file is read in several.
    const native = await openHdf5Betas(file, e.dataset, 64);
    expect(native.layout.shape).toEqual(e.shape);
    // The newest format (layout v4 chunk indexes) and shared messages are left to the HDF5 library.
    expect(native.layout.reader).toBe(['latest_i2.h5', 'committed_i2.h5'].includes(name) ? 'h5wasm' : 'native');
    expect(native.layout.dtype.slice(1)).toBe(e.dtype.slice(1));
    expect(await assemble(native)).toEqual(e.values);
    const library = await openHdf5Betas(file, e.dataset, 64, null, true);
    expect(library.layout.reader).toBe('h5wasm');
    expect(await assemble(library)).toEqual(e.values);
  });

  it('reads every chunk holding a wanted voxel and no other', async () => {
    const e = expected['voxel_i2.h5'];
    const [, Z, Y, X] = e.shape;
    const wanted = Int32Array.from([0, 7, 8, 33, Z * Y * X - 1]);
    const values = await assemble(await openHdf5Betas(path.join(DIR, 'voxel_i2.h5'), 'betas', 1 << 20, wanted));
    const volume = Z * Y * X;
    for (let i = 0; i < values.length; i++) expect(values[i]).toBe(wanted.includes(i % volume) ? e.values[i] : 0);
  });

  it('names what is wrong with a file that cannot be used', async () => {
    const bad = path.join(DIR, 'bad_shapes.h5');
    writeFileSync(path.join(tmp, 'text.h5'), 'not an HDF5 file at all');
    expect(await error(path.join(tmp, 'text.h5'))).toBe('is not an HDF5 file (no HDF5 signature at its start)');
    expect(await error(bad)).toBe('has no dataset "betas"; it holds: /grp/inner, /names, /pairs, /rank3');
    expect(await error(bad, 'grp')).toMatch(/^has no dataset "grp"/);
    expect(await error(bad, 'rank3')).toBe('dataset rank3 has shape [7, 3, 4]; expected 4 axes, trials x Z x Y x X (h5py order)');
    expect(await error(bad, 'names')).toBe('dataset names has HDF5 type class 3 of 3 bytes; betas must be integers of 1-4 bytes or float32/float64');
    expect(await error(bad, 'pairs')).toMatch(/^dataset pairs has HDF5 type class 6 of 6 bytes/);
  });

  it('refuses truncated and damaged files with a message saying so', async () => {
    const bytes = readFileSync(path.join(DIR, 'deep_i2.h5'));
    // Cut inside the raw data: chunks (or index nodes) lie past the end.
    for (const keep of [0.5, 0.9]) {
      writeFileSync(path.join(tmp, 'cut.h5'), bytes.subarray(0, Math.floor(bytes.length * keep)));
      expect(await error(path.join(tmp, 'cut.h5'))).toMatch(/(truncated|past the end of the file)/);
    }
    writeFileSync(path.join(tmp, 'head.h5'), bytes.subarray(0, 40));
    expect(await error(path.join(tmp, 'head.h5'))).toMatch(/^is not a readable HDF5 file \(/);
    // A chunk index node whose signature is overwritten.
    const damaged = Buffer.from(bytes);
    let at = damaged.indexOf('TREE', 0, 'latin1');
    while (at >= 0 && damaged[at + 4] !== 1) at = damaged.indexOf('TREE', at + 4, 'latin1');
    damaged.write('XXXX', at, 'latin1');
    writeFileSync(path.join(tmp, 'damaged.h5'), damaged);
    expect(await error(path.join(tmp, 'damaged.h5'))).toMatch(/^is not a readable HDF5 file \(no chunk index node at byte \d+\)$/);
    // Compressed chunks overwritten with zeros cannot be inflated.
    const deflated = Buffer.from(readFileSync(path.join(DIR, 'deflate_shuffle_i2.h5')));
    deflated.fill(0, deflated.length - 600, deflated.length - 100);
    writeFileSync(path.join(tmp, 'inflate.h5'), deflated);
    expect(await error(path.join(tmp, 'inflate.h5'))).toMatch(/^is truncated or damaged: chunk \d+ (cannot be decompressed|holds \d+ bytes)/);
  });
});
