// A corrupt .npz member is bad input: the import run fails on its first attempt (no retries)
// with BAD_INPUT naming the member and what is wrong, and the response set is FAILED, whether
// the CRC-32 does not match, the member inflates past its recorded size, or its deflate data
// are damaged.
import { encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';
import { buildZip, type ZipMemberSpec } from '../storage/zip-builder';

let api: TestApi;
beforeAll(async () => {
  // Three attempts, as in production: a transient failure would be retried, bad input must not.
  api = await startTestApi({ queue: 'in-process', attempts: 3 });
});
afterAll(() => api.close());

const [N, V] = [12, 40];

async function catalog() {
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: uniqueName('npz') });
  const { createSubject: subject } = await api.ok(`mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id } }`, {
    input: { datasetId: ds.id, name: 'subj01', nVoxels: V, rois: [{ name: 'V1', voxelIndices: [0, 1] }] },
  });
  const { createStimulusSet: set } = await api.ok(`mutation($input: CreateStimulusSetInput!) { createStimulusSet(input: $input) { id } }`, {
    input: { datasetId: ds.id, name: 'images', stimuli: Array.from({ length: N }, (_, i) => ({ externalId: `s${i}` })) },
  });
  return { subjectId: subject.id, stimulusSetId: set.id };
}

function betas(): Buffer {
  const data = new Float32Array(N * V).map((_, i) => ((i * 37) % 11) - 5);
  return Buffer.from(encodeNpy({ dtype: '<f4', shape: [N, V], data }));
}

async function importNpz(member: Omit<ZipMemberSpec, 'name' | 'data'>) {
  const { subjectId, stimulusSetId } = await catalog();
  const zip = buildZip([{ name: 'betas.npy', data: betas(), ...member }]);
  const artifact = await uploadArtifact(api, zip, `${uniqueName('betas')}.npz`);
  const { importResponseSet } = await api.ok(
    `mutation($input: ImportResponseSetInput!) { importResponseSet(input: $input) { run { id } responseSet { id } } }`,
    { input: { subjectId, stimulusSetId, artifactId: artifact.id, npzMember: 'betas' } },
  );
  const run = await waitForRun(api, importResponseSet.run.id, 30_000);
  const { responseSet } = await api.ok(`query($id: ID!) { responseSet(id: $id) { status error } }`, { id: importResponseSet.responseSet.id });
  return { run, responseSet };
}

describe('corrupt .npz members', () => {
  it('imports the intact archive (the reference case)', async () => {
    const { run, responseSet } = await importNpz({ method: 'deflated' });
    expect(run.status).toBe('SUCCEEDED');
    expect(responseSet.status).toBe('READY');
  });

  test.each([
    ['a CRC-32 that does not match', { method: 'stored' as const, crc: 0xdeadbeef }, /betas\.npy' is corrupt: CRC-32 [0-9a-f]{8}, the archive records deadbeef/],
    ['a member that inflates past its recorded size', { method: 'deflated' as const, recordedSize: 200 }, /betas\.npy' extracts to more than its recorded 200 bytes/],
    [
      'damaged deflate data',
      // The first block header says block type 3, which deflate reserves: zlib refuses to inflate.
      { method: 'deflated' as const, damage: (b: Buffer) => Buffer.concat([Buffer.from([0x07]), b.subarray(1)]) },
      /betas\.npy' is corrupt: its compressed data do not inflate \(invalid block type\)/,
    ],
    [
      'deflate data that inflate to too few bytes',
      { method: 'deflated' as const, damage: (b: Buffer) => Buffer.concat([b.subarray(0, 4), Buffer.alloc(8, 0xff), b.subarray(12)]) },
      /betas\.npy' (is corrupt|extracts to \d+ bytes, the archive records 2048)/,
    ],
  ])('%s fails at once as bad input', async (_what, member, reason) => {
    const { run, responseSet } = await importNpz(member);
    expect(run.status).toBe('FAILED');
    expect(run.error.code).toBe('BAD_INPUT');
    expect(run.error.message).toMatch(reason);
    expect(run.attempts).toBe(1);
    expect(responseSet.status).toBe('FAILED');
    expect(responseSet.error).toMatch(reason);
  });
});
