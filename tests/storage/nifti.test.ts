// The NIfTI reader and writer against what nibabel reads from files nibabel wrote
// (scripts/fixtures/nifti_reference.py).
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { encodeNifti1, NiftiFormatError, openNifti, parseHeader, readSingleVolume } from '../../src/storage/nifti';

const DIR = path.join(__dirname, '..', 'fixtures', 'nifti');
const ref = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8'));

async function readAll(file: string, input?: Readable) {
  const reader = await openNifti(input ?? createReadStream(path.join(DIR, file)), file);
  const values: number[] = [];
  for await (const volume of reader.volumes()) values.push(...volume);
  return { reader, values };
}

function expectClose(actual: ArrayLike<number>, expected: number[], rel = 1e-6) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = rel * Math.max(1, Math.abs(expected[i]));
    if (Math.abs(actual[i] - expected[i]) > tol) throw new Error(`element ${i}: ${actual[i]} vs nibabel ${expected[i]}`);
  }
}

const flatAffine = (m: number[][]) => m.flat();

describe('NIfTI reader against nibabel', () => {
  const files = Object.keys(ref.files);
  it.each(files)('%s: shape, affine and scaled values', async (file) => {
    const want = ref.files[file];
    const { reader, values } = await readAll(file);
    expect([...reader.shape3d, ...(reader.nVolumes > 1 ? [reader.nVolumes] : [])]).toEqual(want.shape);
    expect(reader.header.datatype.code).toBe(want.datatype);
    expect(reader.header.qformCode).toBe(want.qformCode);
    expect(reader.header.sformCode).toBe(want.sformCode);
    expectClose(reader.header.affine, flatAffine(want.affine), 1e-6);
    expectClose(values, want.values, 1e-6);
  });

  it('prefers the sform and builds the qform from quaternions as nibabel does', async () => {
    const qonly = ref.files['qform_only.nii'];
    const { reader } = await readAll('qform_only.nii');
    expect(reader.header.affineSource).toBe('qform');
    expectClose(reader.header.affine, flatAffine(qonly.qform), 1e-6);
    const { reader: both } = await readAll('float32.nii');
    expect(both.header.affineSource).toBe('sform');
    expectClose(both.header.affine, flatAffine(ref.files['float32.nii'].sform), 1e-6);
  });

  it('reads a 4D file one volume at a time, in small stream chunks', async () => {
    const bytes = gunzipSync(readFileSync(path.join(DIR, 'run4d.nii.gz')));
    // 7-byte chunks: every boundary falls inside a value somewhere.
    const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(7 * i, 7 * i + 7));
    const reader = await openNifti(Readable.from(chunks), 'run4d.nii');
    expect(reader.nVolumes).toBe(6);
    const per = reader.shape3d[0] * reader.shape3d[1] * reader.shape3d[2];
    let v = 0;
    for await (const volume of reader.volumes()) {
      expectClose(volume, ref.files['run4d.nii.gz'].values.slice(v * per, (v + 1) * per));
      v++;
    }
    expect(v).toBe(6);
  });

  it('reads a single volume (masks, labels)', async () => {
    const { shape, data, header } = await readSingleVolume(createReadStream(path.join(DIR, 'mask.nii.gz')), 'mask.nii.gz');
    expect(shape).toEqual([4, 5, 3]);
    expect(header.datatype.name).toBe('uint8');
    expectClose(data, ref.files['mask.nii.gz'].values);
  });
});

describe('NIfTI reader refusals', () => {
  const read = async (bytes: Buffer, name: string) => {
    const { values } = await readAll(name, Readable.from([bytes]));
    return values;
  };

  it('a truncated .nii.gz names the file and the byte count', async () => {
    const gz = readFileSync(path.join(DIR, 'run4d.nii.gz'));
    const err = await read(gz.subarray(0, gz.length - 200), 'cut.nii.gz').catch((e) => e);
    expect(err).toBeInstanceOf(NiftiFormatError);
    expect(err.message).toMatch(/^cut\.nii\.gz: /);
    expect(err.message).toMatch(/truncated|data ends/);
  });

  it('data shorter than the header dims says both', async () => {
    const plain = readFileSync(path.join(DIR, 'float32.nii'));
    const err = await read(plain.subarray(0, plain.length - 10), 'short.nii').catch((e) => e);
    expect(err).toBeInstanceOf(NiftiFormatError);
    expect(err.field).toBe('dim');
    expect(err.message).toMatch(/dim \[4, 5, 3\] promises 1 volume/);
  });

  it('an unsupported datatype names it', async () => {
    const plain = Buffer.from(readFileSync(path.join(DIR, 'float32.nii')));
    plain.writeInt16LE(32, 70); // complex64
    plain.writeInt16LE(64, 72);
    const err = await read(plain, 'complex.nii').catch((e) => e);
    expect(err).toBeInstanceOf(NiftiFormatError);
    expect(err.field).toBe('datatype');
    expect(err.message).toMatch(/complex64 \(code 32\) is not supported/);
  });

  it('stopping early, or refusing a header, while the source still has reads pending leaves no stray stream error', async () => {
    // A slow source (as S3 is): when the reader stops, a read from it is still in flight. That
    // read fails with "premature close" once the source is destroyed; nothing may be left to
    // throw it as an uncaught error.
    const slow = (bytes: Buffer) => {
      let at = 0;
      return new Readable({
        read() {
          setTimeout(() => {
            if (at >= bytes.length) this.push(null);
            else this.push(bytes.subarray(at, (at += 64)));
          }, 2);
        },
      });
    };
    const strays: unknown[] = [];
    const onStray = (err: unknown) => strays.push(err);
    process.on('uncaughtException', onStray);
    try {
      const gz = readFileSync(path.join(DIR, 'run4d.nii.gz'));
      for (let i = 0; i < 5; i++) {
        const reader = await openNifti(slow(gz), 'run4d.nii.gz');
        for await (const volume of reader.volumes()) if (volume) break;
        const refused = await openNifti(slow(Buffer.concat([Buffer.alloc(400), gz])), 'x.nii').catch((e) => e);
        expect(refused).toBeInstanceOf(NiftiFormatError);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('uncaughtException', onStray);
    }
    expect(strays).toEqual([]);
  });

  it('a file that is not NIfTI', async () => {
    const err = await read(Buffer.from('hello, this is not a brain volume at all'), 'x.nii').catch((e) => e);
    expect(err.field).toBe('sizeof_hdr');
  });
});

describe('NIfTI writer', () => {
  const input = ref.twinInput;
  const affine = flatAffine(input.affine);

  it('writes what nibabel wrote for the same values and affine', () => {
    const mine = parseHeader(encodeNifti1({ shape: input.shape, affine, data: input.values }), 'mine.nii');
    const twin = parseHeader(readFileSync(path.join(DIR, 'twin_nibabel.nii')), 'twin_nibabel.nii');
    for (const key of ['version', 'dims', 'voxOffset', 'sformCode', 'qformCode'] as const) expect(mine[key]).toEqual(twin[key]);
    expect(mine.datatype.code).toBe(twin.datatype.code);
    expectClose(mine.srow.flat(), twin.srow.flat(), 1e-6);
    expectClose(mine.pixdim.slice(0, 4), twin.pixdim.slice(0, 4), 1e-6);
    expectClose(mine.quatern, twin.quatern, 1e-5);
    expectClose(mine.qoffset, twin.qoffset, 1e-6);
  });

  it('round-trips values and affine (plain and gzipped) to nibabel reference values', async () => {
    for (const gzip of [false, true]) {
      const bytes = encodeNifti1({ shape: input.shape, affine, data: input.values }, { gzip });
      const { reader, values } = await readAll('mine.nii', Readable.from([bytes]));
      expectClose(values, ref.files['twin_nibabel.nii'].values);
      expectClose(reader.header.affine, flatAffine(ref.files['twin_nibabel.nii'].affine));
    }
    expect(gzipSync).toBeDefined();
  });
});
