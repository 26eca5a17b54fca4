// Fortran-ordered arrays import like C-ordered ones: the same arrays written by numpy in both
// orders (scripts/fixtures/npy_order.py) give the per-voxel mean and SD numpy computed, as a
// .npy and as an .npz member; a Fortran-ordered feature array imports READY.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';

const FIX = path.join(__dirname, '../fixtures/npy-order');
const reference = JSON.parse(readFileSync(path.join(FIX, 'reference.json'), 'utf8'));
const [N, V] = [12, 40];

let api: TestApi;
let subjectId: string;
let stimulusSetId: string;
beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: uniqueName('order') });
  ({ createSubject: { id: subjectId } } = await api.ok(`mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id } }`, {
    input: { datasetId: ds.id, name: 'subj01', nVoxels: V, rois: [{ name: 'V1', voxelIndices: [0, 1] }] },
  }));
  ({ createStimulusSet: { id: stimulusSetId } } = await api.ok(`mutation($input: CreateStimulusSetInput!) { createStimulusSet(input: $input) { id } }`, {
    input: { datasetId: ds.id, name: 'images', stimuli: Array.from({ length: N }, (_, i) => ({ externalId: `s${i}` })) },
  }));
});
afterAll(() => api.close());

async function download(url: string): Promise<Float32Array> {
  return decodeNpy(new Uint8Array(await (await fetch(url)).arrayBuffer())).data as Float32Array;
}

async function importResponses(file: string, npzMember?: string) {
  const artifact = await uploadArtifact(api, readFileSync(path.join(FIX, file)), file);
  const { importResponseSet } = await api.ok(
    `mutation($input: ImportResponseSetInput!) { importResponseSet(input: $input) { run { id } responseSet { id } } }`,
    { input: { subjectId, stimulusSetId, name: uniqueName(file), artifactId: artifact.id, npzMember } },
  );
  const run = await waitForRun(api, importResponseSet.run.id);
  expect([run.status, run.error]).toEqual(['SUCCEEDED', null]);
  const { responseSet } = await api.ok(`query($id: ID!) { responseSet(id: $id) { status nRepeats voxelMean { downloadUrl } voxelSd { downloadUrl } } }`, {
    id: importResponseSet.responseSet.id,
  });
  expect(responseSet.status).toBe('READY');
  return { nRepeats: responseSet.nRepeats, mean: await download(responseSet.voxelMean.downloadUrl), sd: await download(responseSet.voxelSd.downloadUrl) };
}

function expectClose(got: Float32Array, want: number[]) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(1e-5 * (1 + Math.abs(want[i]))));
}

test.each([
  ['responses_c.npy', undefined],
  ['responses_f.npy', undefined],
  ['responses_f.npz', 'betas'],
])('%s: per-voxel mean and SD equal numpy', async (file, member) => {
  const got = await importResponses(file, member);
  expect(got.nRepeats).toBe(3);
  expectClose(got.mean, reference.responses.voxelMean);
  expectClose(got.sd, reference.responses.voxelSd);
});

test('a 2-D big-endian float64 Fortran array', async () => {
  const got = await importResponses('betas2d_f.npy');
  expect(got.nRepeats).toBeNull();
  expectClose(got.mean, reference.betas2d.voxelMean);
});

test('Fortran-ordered features import READY with their width', async () => {
  const { registerModel: model } = await api.ok(`mutation($n: String!) { registerModel(input: { name: $n, kind: BACKBONE, featureWidth: 7 }) { id } }`, { n: uniqueName('m') });
  const artifact = await uploadArtifact(api, readFileSync(path.join(FIX, 'features_f.npy')), 'features_f.npy');
  const { importFeatureSet } = await api.ok(`mutation($i: ImportFeatureSetInput!) { importFeatureSet(input: $i) { run { id } featureSet { id } } }`, {
    i: { modelId: model.id, stimulusSetId, artifactId: artifact.id },
  });
  const run = await waitForRun(api, importFeatureSet.run.id);
  expect([run.status, run.error]).toEqual(['SUCCEEDED', null]);
  const { featureSet } = await api.ok(`query($id: ID!) { featureSet(id: $id) { status dim } }`, { id: importFeatureSet.featureSet.id });
  expect(featureSet).toEqual({ status: 'READY', dim: 7 });
});
