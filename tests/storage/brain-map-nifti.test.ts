// Brain maps BrainAlign renders, read back against what nibabel read from the committed renderings
// (scripts/fixtures/brain-map-render.ts wrote them, scripts/fixtures/brain_map_reference.py checked
// them against planted values and recorded nibabel's view).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { fixtureMaps } from '../../scripts/fixtures/brain-map-render';
import { finiteRange, scatterToVolume } from '../../src/domain/brain-map-volume';
import { readSingleVolume } from '../../src/storage/nifti';
import { qformAffine } from '../../src/storage/nifti/affine';

const DIR = path.join(__dirname, '..', 'fixtures', 'nifti');
const ref = JSON.parse(readFileSync(path.join(DIR, 'brain_map_reference.json'), 'utf8'));

describe('brain maps as NIfTI, against nibabel', () => {
  it.each(Object.keys(ref))('%s: the renderer still writes the committed bytes', async (file) => {
    const rendered = (await fixtureMaps())[file];
    expect(gunzipSync(rendered).equals(gunzipSync(readFileSync(path.join(DIR, file))))).toBe(true);
  });

  it.each(Object.keys(ref))('%s: values, NaN outside the mask, float32, affine, sform and qform as nibabel reads them', async (file) => {
    const want = ref[file];
    const { header, shape, data } = await readSingleVolume(Readable.from([readFileSync(path.join(DIR, file))]), file);
    expect(shape).toEqual(want.shape);
    expect(header.datatype.name).toBe('float32');
    expect(header.datatype.code).toBe(want.datatype);
    expect([header.sformCode, header.qformCode]).toEqual([want.sformCode, want.qformCode]);
    expect(header.description).toBe(want.description);
    header.affine.forEach((v, i) => expect(v).toBeCloseTo(want.affine.flat()[i], 6));
    // The qform as nibabel's get_qform computes it (exact for the rotation up to float32 quaternions).
    qformAffine({ ...header, dims: header.dims }).forEach((v, i) => expect(v).toBeCloseTo(want.qform.flat()[i], 5));
    expect(data.length).toBe(want.values.length);
    let nNan = 0;
    want.values.forEach((v: number | null, i: number) => {
      if (v === null) {
        nNan++;
        expect(Number.isNaN(data[i])).toBe(true);
      } else expect(data[i]).toBe(v);
    });
    expect(nNan).toBe(want.nNan);
  });

  it('scatters values to their voxels, refuses coordinates off the grid, and counts finite values', () => {
    const volume = scatterToVolume([5, -1], [1, 0, 0, 0, 1, 1], [2, 2, 2]);
    expect(Array.from(volume, (v) => (Number.isNaN(v) ? null : v))).toEqual([null, 5, null, null, null, null, -1, null]);
    expect(() => scatterToVolume([1], [2, 0, 0], [2, 2, 2])).toThrow(/outside the grid/);
    expect(finiteRange([NaN, 3, -2, Infinity])).toEqual({ nFinite: 2, min: -2, max: 3 });
    expect(finiteRange([NaN])).toEqual({ nFinite: 0, min: null, max: null });
  });
});
