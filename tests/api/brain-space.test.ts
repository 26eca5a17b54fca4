// Subjects created from a brain mask volume, ROIs from masks and label volumes, checked against
// what nibabel/numpy computed from the same files (scripts/fixtures/nifti_reference.py).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact } from '../helpers/upload';
import { parseNpyHeader } from '../../src/storage';

const DIR = path.join(__dirname, '..', 'fixtures', 'nifti');
const ref = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8'));
const upload = async (api: TestApi, file: string) => (await uploadArtifact(api, readFileSync(path.join(DIR, file)), file)).id;

const CREATE = `mutation($input: CreateSubjectFromMaskInput!) { createSubjectFromMask(input: $input) {
  subject { id nVoxels space { shape affine mask { filename } } voxelCoordinates { downloadUrl shape dtype } rois { name voxelIndices } }
  rois { name nVoxels outsideMask } } }`;

let api: TestApi;
let datasetId: string;
beforeAll(async () => {
  api = await startTestApi();
  datasetId = (await api.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`, { input: { name: uniqueName('space') } })).createDataset.id;
});
afterAll(() => api.close());

const codeOf = (body: { errors?: any[] }) => body.errors?.[0]?.extensions;

describe('subjects in brain space', () => {
  it('takes voxels from the mask in C order, keeps shape, affine and ijk, and places ROIs from labels and masks', async () => {
    const mask = await upload(api, 'mask.nii.gz');
    const labels = await upload(api, 'labels.nii.gz');
    const ctab = await upload(api, 'labels.ctab');
    const txt = await upload(api, 'labels.txt');
    const { createSubjectFromMask: out } = await api.ok(CREATE, {
      input: { datasetId, name: 'subj01', maskArtifactId: mask, roiAtlases: [{ labelsArtifactId: labels, tableArtifactId: ctab }], roiMasks: [] },
    });
    const nVoxels = ref.maskVoxels.length;
    expect(out.subject.nVoxels).toBe(nVoxels);
    expect(out.subject.space.shape).toEqual([4, 5, 3]);
    const affine = ref.files['mask.nii.gz'].affine;
    out.subject.space.affine.flat().forEach((v: number, i: number) => expect(v).toBeCloseTo(affine.flat()[i], 5));
    expect(out.subject.voxelCoordinates).toMatchObject({ shape: [nVoxels, 3], dtype: '<i4' });
    const bytes = Buffer.from(await (await fetch(out.subject.voxelCoordinates.downloadUrl)).arrayBuffer());
    const header = parseNpyHeader(bytes);
    const ijk = new Int32Array(bytes.buffer.slice(bytes.byteOffset + header.dataOffset, bytes.byteOffset + bytes.length));
    expect(Array.from(ijk)).toEqual(ref.maskVoxels.flat());
    for (const [name, want] of Object.entries<any>(ref.roiVoxels)) {
      expect(out.subject.rois.find((r: any) => r.name === name).voxelIndices).toEqual(want.subjectVoxels);
      expect(out.rois.find((r: any) => r.name === name)).toEqual({ name, nVoxels: want.subjectVoxels.length, outsideMask: want.outsideMask });
    }
    // The same atlas through NSD's two-column text table, and a binary ROI mask (the mask itself).
    const { createSubjectFromMask: again } = await api.ok(CREATE, {
      input: { datasetId, name: 'subj02', maskArtifactId: mask, roiAtlases: [{ labelsArtifactId: labels, tableArtifactId: txt }], roiMasks: [{ name: 'brain', artifactId: mask }] },
    });
    expect(again.rois.find((r: any) => r.name === 'brain')).toEqual({ name: 'brain', nVoxels, outsideMask: 0 });
    expect(again.rois.find((r: any) => r.name === 'FFA-1').nVoxels).toBe(ref.roiVoxels['FFA-1'].subjectVoxels.length);
  });

  it('refuses non-binary masks, other grids and label tables that disagree with the volume, creating nothing', async () => {
    const mask = await upload(api, 'mask.nii.gz');
    const labels = await upload(api, 'labels.nii.gz');
    const notBinary = await upload(api, 'not_binary.nii.gz');
    const other = await upload(api, 'mask_other_shape.nii.gz');
    const oblique = await upload(api, 'qform_only.nii');
    const extra = (await uploadArtifact(api, Buffer.from('1 V1v\n2 V1d\n3 FFA-1\n7 PPA\n'), 'extra.txt')).id;
    const missing = (await uploadArtifact(api, Buffer.from('{"1": "V1v", "2": "V1d"}'), 'short.json')).id;

    const nb = codeOf(await api.gql(CREATE, { input: { datasetId, name: 'bad1', maskArtifactId: notBinary } }));
    expect(nb).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maskArtifactId' });
    const shape = await api.gql(CREATE, { input: { datasetId, name: 'bad2', maskArtifactId: mask, roiMasks: [{ name: 'x', artifactId: other }] } });
    expect(codeOf(shape)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roiMasks[0].artifactId', expected: [4, 5, 3], found: [4, 5, 2] });
    expect(shape.errors![0].message).toMatch(/shape \[4, 5, 2\] but mask\.nii\.gz has shape \[4, 5, 3\]/);
    const aff = await api.gql(CREATE, { input: { datasetId, name: 'bad3', maskArtifactId: mask, roiMasks: [{ name: 'x', artifactId: oblique }] } });
    expect(aff.errors![0].message).toMatch(/has affine \[\[.*\]\] but mask\.nii\.gz has \[\[/);
    const absent = await api.gql(CREATE, { input: { datasetId, name: 'bad4', maskArtifactId: mask, roiAtlases: [{ labelsArtifactId: labels, tableArtifactId: extra }] } });
    expect(absent.errors![0].message).toMatch(/names label\(s\) 7 \(PPA\) that labels\.nii\.gz does not hold/);
    const unnamed = await api.gql(CREATE, { input: { datasetId, name: 'bad5', maskArtifactId: mask, roiAtlases: [{ labelsArtifactId: labels, tableArtifactId: missing }] } });
    expect(unnamed.errors![0].message).toMatch(/holds label\(s\) 3 that short\.json does not name/);
    const notNifti = await api.gql(CREATE, { input: { datasetId, name: 'bad6', maskArtifactId: extra } });
    expect(codeOf(notNifti)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maskArtifactId', headerField: 'sizeof_hdr' });
    const { dataset } = await api.ok(`query($id: ID!) { dataset(id: $id) { subjects { name } } }`, { id: datasetId });
    expect(dataset.subjects.map((s: any) => s.name).filter((n: string) => n.startsWith('bad'))).toEqual([]);
  });
});
