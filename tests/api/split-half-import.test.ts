// Split-half reliability computed at response-set import, against numpy
// (scripts/fixtures/nifti_reference.py: the same 4 x 20 x 7 responses and the same splits).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';
import { drawSplits } from '../../src/compute/split-half';
import { encodeNpy, parseNpyHeader } from '../../src/storage';

const ref = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'nifti', 'reference.json'), 'utf8')).splitHalf;
/** drawSplits(4, 5, SEED) draws exactly the reference's splits. */
const SEED = 530;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
});
afterAll(() => api.close());

async function download(url: string): Promise<Float32Array> {
  const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
  const header = parseNpyHeader(bytes);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset + header.dataOffset, bytes.byteOffset + bytes.length));
}

describe('split-half reliability at import', () => {
  it('stores the Spearman-Brown corrected split-half reliability numpy computes, beside the ncsnr ceiling', async () => {
    expect(drawSplits(4, 5, SEED)).toEqual(ref.splits);
    const [R, S, V] = ref.shape;
    const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: uniqueName('split') });
    const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, { i: { datasetId: ds.id, name: 's1', nVoxels: V } });
    const { createStimulusSet } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
      i: { datasetId: ds.id, name: 'images', stimuli: Array.from({ length: S }, (_, i) => ({ externalId: `s${i}` })) },
    });
    const betas = await uploadArtifact(api, encodeNpy({ dtype: '<f8', shape: [R, S, V], data: Float64Array.from(ref.values) }), 'betas.npy');
    const { importResponseSet } = await api.ok(`mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } responseSet { id } } }`, {
      i: { subjectId: createSubject.id, stimulusSetId: createStimulusSet.id, artifactId: betas.id, splitHalfSplits: 5, splitHalfSeed: SEED },
    });
    expect((await waitForRun(api, importResponseSet.run.id)).status).toBe('SUCCEEDED');
    const { responseSet } = await api.ok(
      `query($id: ID!) { responseSet(id: $id) { status nRepeats splitHalfSplits splitHalfMedian splitHalf { downloadUrl shape } ncsnr { downloadUrl shape } noiseCeiling { shape } } }`,
      { id: importResponseSet.responseSet.id },
    );
    expect(responseSet).toMatchObject({ status: 'READY', nRepeats: 4, splitHalfSplits: 5, splitHalf: { shape: [V] }, ncsnr: { shape: [V] }, noiseCeiling: { shape: [V] } });
    const sb = await download(responseSet.splitHalf.downloadUrl);
    ref.spearmanBrown.forEach((want: number, j: number) => expect(sb[j]).toBeCloseTo(want, 5));
    const sorted = [...ref.spearmanBrown].sort((a: number, b: number) => a - b);
    expect(responseSet.splitHalfMedian).toBeCloseTo(sorted[(V - 1) / 2], 5);
  });

  it('defaults to 100 splits and skips the reliability for single-presentation responses', async () => {
    const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: uniqueName('split') });
    const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, { i: { datasetId: ds.id, name: 's1', nVoxels: 2 } });
    const { createStimulusSet } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
      i: { datasetId: ds.id, name: 'images', stimuli: [{ externalId: 'a' }, { externalId: 'b' }, { externalId: 'c' }] },
    });
    const ids: string[] = [];
    for (const [shape, data] of [
      [[3, 2], [1, 2, 3, 5, 4, 1]],
      [[2, 3, 2], [1, 2, 3, 5, 4, 1, 1.5, 2, 2.5, 6, 4, 0]],
    ] as [number[], number[]][]) {
      const a = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape, data: Float32Array.from(data) }), `b${shape.length}.npy`);
      const { importResponseSet } = await api.ok(`mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } responseSet { id } } }`, {
        i: { subjectId: createSubject.id, stimulusSetId: createStimulusSet.id, artifactId: a.id, name: `r${shape.length}` },
      });
      expect((await waitForRun(api, importResponseSet.run.id)).status).toBe('SUCCEEDED');
      ids.push(importResponseSet.responseSet.id);
    }
    const q = `query($id: ID!) { responseSet(id: $id) { splitHalfSplits splitHalf { shape } splitHalfMedian } }`;
    expect((await api.ok(q, { id: ids[0] })).responseSet).toEqual({ splitHalfSplits: null, splitHalf: null, splitHalfMedian: null });
    // Two repeats have one distinct split; 100 draws of it average to that split's r.
    expect((await api.ok(q, { id: ids[1] })).responseSet).toMatchObject({ splitHalfSplits: 100, splitHalf: { shape: [2] } });
    const bad = await api.gql(`mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } } }`, {
      i: { subjectId: createSubject.id, stimulusSetId: createStimulusSet.id, artifactId: ids[0], splitHalfSplits: -1 },
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'splitHalfSplits' });
  });
});
