// Per-voxel arrays downloaded as NIfTI brain maps in the subject's space. Expectations come from
// nibabel's view of the mask fixture (which voxel is where, the affine: reference.json written by
// scripts/fixtures/nifti_reference.py) and from values planted here, never from the renderer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';
import { decodeNpy, encodeNpy, toFloat32 } from '../../src/storage';
import { readSingleVolume } from '../../src/storage/nifti';

const DIR = path.join(__dirname, '..', 'fixtures', 'nifti');
const ref = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8'));
const MASK_IJK: [number, number, number][] = ref.maskVoxels;
const N = MASK_IJK.length;
const [NX, NY, NZ] = ref.files['mask.nii.gz'].shape;
const AFFINE: number[] = ref.files['mask.nii.gz'].affine.flat();

const upload = async (api: TestApi, bytes: Uint8Array, name: string) => (await uploadArtifact(api, bytes, name)).id;
const npy = (shape: number[], values: number[]) => Buffer.from(encodeNpy({ dtype: '<f4', shape, data: Float32Array.from(values) }));
const planted = ([i, j, k]: number[]) => 10 * i + j - 0.5 * k;
const codeOf = (body: { errors?: any[] }) => body.errors?.[0]?.extensions;

const MAP_FIELDS = `row nRows nVoxels nFinite min max values voxelIjk valuesFloat32 maskBits niftiUrl nifti { id filename mediaType } source { id } subject { id }`;
const RENDER = `mutation($input: RenderBrainMapInput!) { renderBrainMap(input: $input) { ${MAP_FIELDS} } }`;

async function download(url: string) {
  const res = await fetch(url);
  expect(res.ok).toBe(true);
  return readSingleVolume(Readable.from([Buffer.from(await res.arrayBuffer())]), 'map.nii.gz');
}

/** The compact values: little-endian float32 read back by hand. */
function float32s(base64: string): number[] {
  const b = Buffer.from(base64, 'base64');
  return Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(4 * i));
}

/** The (i, j, k) of each set bit of the compact mask (C order over i, j, k, high bit first). */
function setBits(base64: string): number[][] {
  const b = Buffer.from(base64, 'base64');
  const out: number[][] = [];
  for (let g = 0; g < NX * NY * NZ; g++) if (b[g >> 3] & (0x80 >> (g & 7))) out.push([Math.floor(g / (NY * NZ)), Math.floor(g / NZ) % NY, g % NZ]);
  return out;
}

/** Each grid voxel's expected value: the subject voxel's there (nibabel's mask order), NaN elsewhere. */
function expectMap(data: Float32Array, valueOf: (v: number) => number) {
  const at = new Map(MASK_IJK.map(([i, j, k], v) => [i + NX * (j + NY * k), v]));
  expect(data.length).toBe(NX * NY * NZ);
  for (let x = 0; x < data.length; x++) {
    const v = at.get(x);
    const want = v === undefined ? NaN : Math.fround(valueOf(v));
    if (Number.isNaN(want)) expect(Number.isNaN(data[x])).toBe(true);
    else expect(data[x]).toBe(want);
  }
}

let api: TestApi;
let datasetId: string;
let subjectId: string;
beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  datasetId = (await api.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`, { input: { name: uniqueName('maps') } })).createDataset.id;
  const mask = await upload(api, readFileSync(path.join(DIR, 'mask.nii.gz')), 'mask.nii.gz');
  const out = await api.ok(`mutation($input: CreateSubjectFromMaskInput!) { createSubjectFromMask(input: $input) { subject { id nVoxels } } }`, {
    input: { datasetId, name: 'subj01', maskArtifactId: mask },
  });
  subjectId = out.createSubjectFromMask.subject.id;
  expect(out.createSubjectFromMask.subject.nVoxels).toBe(N);
});
afterAll(() => api.close());

describe('brain maps', () => {
  it('renders a per-voxel array in the subject space: float32, NaN outside the mask, the mask affine in sform and qform', async () => {
    const values = MASK_IJK.map(planted);
    const artifactId = await upload(api, npy([N], values), 'pearsonR.npy');
    const { renderBrainMap: map } = await api.ok(RENDER, { input: { artifactId, subjectId } });
    expect(map).toMatchObject({ row: 0, nRows: 1, nVoxels: N, nFinite: N, min: Math.min(...values), max: Math.max(...values) });
    expect(map.nifti).toMatchObject({ filename: 'subj01-pearsonR.nii.gz', mediaType: 'application/gzip' });
    expect(map.values).toEqual(values.map(Math.fround));
    expect(map.voxelIjk).toEqual(MASK_IJK.flat());
    // The compact forms carry the same: the values as float32, the voxels as the mask's set bits in order.
    expect(float32s(map.valuesFloat32)).toEqual(values.map(Math.fround));
    expect(setBits(map.maskBits)).toEqual(MASK_IJK);

    const { header, shape, data } = await download(map.niftiUrl);
    expect(shape).toEqual([NX, NY, NZ]);
    expect(header.datatype.name).toBe('float32');
    expect([header.sformCode, header.qformCode]).toEqual([2, 2]);
    header.affine.forEach((v, i) => expect(v).toBeCloseTo(AFFINE[i], 6));
    expectMap(data, (v) => values[v]);

    // Rendered once: asking again finds the same volume.
    const again = (await api.ok(RENDER, { input: { artifactId, subjectId } })).renderBrainMap;
    expect(again.nifti.id).toBe(map.nifti.id);
    expect(await api.db.brainMapRender.count({ where: { sourceArtifactId: artifactId } })).toBe(1);
  });

  it('shows one row of a [n_rows, n_voxels] array; NaN values stay NaN and are left out of the range', async () => {
    const rows = [MASK_IJK.map(() => 1), MASK_IJK.map((ijk, v) => (v % 4 === 0 ? NaN : planted(ijk) * 2))];
    const artifactId = await upload(api, npy([2, N], rows.flat()), 'explainedVariance.npy');
    const { renderBrainMap: map } = await api.ok(RENDER, { input: { artifactId, subjectId, row: 1 } });
    const finite = rows[1].filter(Number.isFinite);
    expect(map).toMatchObject({ row: 1, nRows: 2, nFinite: finite.length, min: Math.min(...finite), max: Math.max(...finite) });
    expect(map.values).toEqual(rows[1].map((x) => (Number.isNaN(x) ? null : Math.fround(x))));
    expect(float32s(map.valuesFloat32)).toEqual(rows[1].map(Math.fround));
    expect(map.nifti.filename).toBe('subj01-explainedVariance-row1.nii.gz');
    expectMap((await download(map.niftiUrl)).data, (v) => rows[1][v]);

    const out = await api.gql(RENDER, { input: { artifactId, subjectId, row: 2 } });
    expect(codeOf(out)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'row', nRows: 2 });
    expect(out.errors![0].message).toMatch(/row 2 is out of range: explainedVariance.npy has 2 row\(s\)/);
  });

  it('reads other dtypes and Fortran-ordered arrays (float64 [2, n] in column-major, int16 classes)', async () => {
    const rows = [MASK_IJK.map(planted), MASK_IJK.map((ijk) => -planted(ijk) / 3)];
    const fortran = Float64Array.from({ length: 2 * N }, (_, x) => rows[x % 2][Math.floor(x / 2)]);
    const f64 = await upload(api, Buffer.from(encodeNpy({ dtype: '<f8', shape: [2, N], data: fortran, fortranOrder: true })), 'fortran.npy');
    const { renderBrainMap: map } = await api.ok(RENDER, { input: { artifactId: f64, subjectId, row: 1 } });
    expect(map.values).toEqual(rows[1].map((x) => Math.fround(x) + 0)); // JSON has no -0
    expectMap((await download(map.niftiUrl)).data, (v) => rows[1][v]);

    const classes = MASK_IJK.map((_, v) => v % 3);
    const i16 = await upload(api, Buffer.from(encodeNpy({ dtype: '<i2', shape: [N], data: Int16Array.from(classes) })), 'causal-class.npy');
    const { renderBrainMap: cls } = await api.ok(RENDER, { input: { artifactId: i16, subjectId } });
    expect(cls).toMatchObject({ min: 0, max: 2, nFinite: N, values: classes });
  });

  it('refuses arrays that are not per-voxel for the subject, and subjects without a brain space', async () => {
    const wrong = await upload(api, npy([N + 1], Array.from({ length: N + 1 }, (_, i) => i)), 'wrong.npy');
    const out = await api.gql(RENDER, { input: { artifactId: wrong, subjectId } });
    expect(codeOf(out)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'artifactId', shape: [N + 1], nVoxels: N });
    expect(out.errors![0].message).toContain(`wrong.npy has shape [${N + 1}]; a brain map of subject subj01 needs an array of shape [${N}] or [n_rows, ${N}]`);

    const plain = (await api.ok(`mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id } }`, { input: { datasetId, name: 'flat', nVoxels: N } })).createSubject.id;
    const ok = await upload(api, npy([N], MASK_IJK.map(planted)), 'pearsonR.npy');
    const flat = await api.gql(RENDER, { input: { artifactId: ok, subjectId: plain } });
    expect(codeOf(flat)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'subjectId' });
    expect(flat.errors![0].message).toMatch(/Subject flat has no brain space/);
    expect(await api.gql(`{ artifact(id: "${ok}") { niftiUrl(subjectId: "${plain}") } }`)).toEqual({ data: { artifact: { niftiUrl: null } } });
    expect(codeOf(await api.gql(RENDER, { input: { artifactId: ok, subjectId: '00000000-0000-4000-8000-000000000000' } }))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it("maps a response set's noise ceiling (Artifact.niftiUrl finds its subject) and an import run's outputs", async () => {
    const nStim = 12;
    const stimuli = Array.from({ length: nStim }, (_, i) => ({ externalId: `img-${i}` }));
    const set = (await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, { i: { datasetId, name: 'images', stimuli } })).createStimulusSet.id;
    // 3 repeats: a voxel's signal plus noise whose size grows with the voxel index.
    const responses: number[] = [];
    for (let r = 0; r < 3; r++)
      for (let s = 0; s < nStim; s++) for (let v = 0; v < N; v++) responses.push(Math.sin(s * 1.7 + v) + (v / N) * Math.cos(7 * r + 3 * s + v * 0.3));
    const artifactId = await upload(api, npy([3, nStim, N], responses), 'betas.npy');
    const imported = await api.ok(`mutation($input: ImportResponseSetInput!) { importResponseSet(input: $input) { run { id } responseSet { id } } }`, {
      input: { subjectId, stimulusSetId: set, artifactId },
    });
    expect((await waitForRun(api, imported.importResponseSet.run.id)).status).toBe('SUCCEEDED');
    const { responseSet } = await api.ok(`query($id: ID!) { responseSet(id: $id) { noiseCeiling { downloadUrl niftiUrl } } }`, { id: imported.importResponseSet.responseSet.id });
    const nc = toFloat32(decodeNpy(Buffer.from(await (await fetch(responseSet.noiseCeiling.downloadUrl)).arrayBuffer())));
    expect(responseSet.noiseCeiling.niftiUrl).toEqual(expect.any(String));
    expectMap((await download(responseSet.noiseCeiling.niftiUrl)).data, (v) => nc[v]);

    const { run } = await api.ok(`query($id: ID!) { run(id: $id) { brainMapOutputs { name nRows } brainMap(output: "noiseCeiling") { nFinite values } } }`, {
      id: imported.importResponseSet.run.id,
    });
    expect(run.brainMapOutputs).toEqual(expect.arrayContaining([{ name: 'noiseCeiling', nRows: 1 }]));
    expect(run.brainMap.values).toEqual(Array.from(nc, (x) => (Number.isFinite(x) ? x : null)));
    const missing = await api.gql(`query($id: ID!) { run(id: $id) { brainMap(output: "nope") { row } } }`, { id: imported.importResponseSet.run.id });
    expect(codeOf(missing)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'output' });
  });

  it('answers NOT_FOUND for a subject another lab keeps private, as for one that does not exist', async () => {
    const ok = await upload(api, npy([N], MASK_IJK.map(planted)), 'pearsonR.npy');
    const anon = await api.as('anonymous').gql(RENDER, { input: { artifactId: ok, subjectId } });
    expect(codeOf(anon)).toMatchObject({ code: 'NOT_FOUND' });
  });
});
