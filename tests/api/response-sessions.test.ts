// Responses from session files: a NIfTI 4D session (written by nibabel) and an NSD-style HDF5
// session (h5py, chunked per voxel across trials) with their design tables, against the direct
// numpy computation of scripts/fixtures/nifti_reference.py (masking, z-scoring within each
// session, grouping the first 3 presentations of each image, noise ceiling, split-half).
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact, waitForRun } from '../helpers/upload';
import { drawSplits } from '../../src/compute/split-half';
import { parseNpyHeader } from '../../src/storage';

const DIR = path.join(__dirname, '..', 'fixtures', 'nifti');
const ref = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8')).sessions;
/** drawSplits(3, 5, SEED) draws the reference's splits. */
const SEED = 58;

const IMPORT = `mutation($i: ImportResponseSessionsInput!) { importResponseSessions(input: $i) { nRepeats extraPresentations run { id kind } responseSet { id status } } }`;
const SET = `query($id: ID!) { responseSet(id: $id) { status error nRepeats artifact { downloadUrl shape dtype } noiseCeiling { downloadUrl } ncsnr { downloadUrl }
  splitHalf { downloadUrl } splitHalfSplits } }`;

let api: TestApi;
let subjectId: string;
let stimulusSetId: string;
const files: Record<string, string> = {};
const upload = async (name: string, bytes?: Buffer) => (files[name] ??= (await uploadArtifact(api, bytes ?? readFileSync(path.join(DIR, name)), name)).id);

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: uniqueName('sessions') });
  const mask = await upload('mask.nii.gz');
  const { createSubjectFromMask } = await api.ok(`mutation($i: CreateSubjectFromMaskInput!) { createSubjectFromMask(input: $i) { subject { id nVoxels } } }`, {
    i: { datasetId: ds.id, name: 'subj01', maskArtifactId: mask },
  });
  subjectId = createSubjectFromMask.subject.id;
  expect(createSubjectFromMask.subject.nVoxels).toBe(ref.zscored.shape[2]);
  const { createStimulusSet } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
    i: { datasetId: ds.id, name: 'images', stimuli: ref.stimuli.map((externalId: string) => ({ externalId })) },
  });
  stimulusSetId = createStimulusSet.id;
});
afterAll(() => api.close());

async function floats(url: string): Promise<Float32Array> {
  const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
  const header = parseNpyHeader(bytes);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset + header.dataOffset, bytes.byteOffset + bytes.length));
}

function expectClose(found: Float32Array, want: number[], digits: number) {
  expect(found.length).toBe(want.length);
  let worst = 0;
  want.forEach((w, i) => (worst = Math.max(worst, Math.abs(found[i] - w))));
  expect(worst).toBeLessThan(10 ** -digits);
}

async function importAndCheck(name: string, sessions: { betas: string; design: string; designSession?: string }[], zscore: boolean, expected: any) {
  const input = {
    subjectId,
    stimulusSetId,
    name,
    zscore,
    splitHalfSplits: 5,
    splitHalfSeed: SEED,
    sessions: await Promise.all(
      sessions.map(async (s) => ({ betasArtifactId: await upload(s.betas), designArtifactId: await upload(s.design), ...(s.designSession ? { designSession: s.designSession } : {}) })),
    ),
  };
  const { importResponseSessions: out } = await api.ok(IMPORT, { i: input });
  expect(out).toMatchObject({ nRepeats: 3, extraPresentations: ref.extraPresentations, run: { kind: 'IMPORT_SESSIONS' } });
  const run = await waitForRun(api, out.run.id);
  expect(run.error).toBeNull();
  expect(run.status).toBe('SUCCEEDED');
  const { responseSet: set } = await api.ok(SET, { id: out.responseSet.id });
  expect(set).toMatchObject({ status: 'READY', nRepeats: 3, splitHalfSplits: 5, artifact: { shape: expected.shape, dtype: '<f4' } });
  expectClose(await floats(set.artifact.downloadUrl), expected.values, 4);
  expectClose(await floats(set.noiseCeiling.downloadUrl), expected.noiseCeiling, 3);
  expectClose(await floats(set.ncsnr.downloadUrl), expected.ncsnr, 4);
  expectClose(await floats(set.splitHalf.downloadUrl), expected.splitHalf, 4);
  return run;
}

describe('importResponseSessions', () => {
  it('masks, z-scores within each session and groups repeats as numpy does (NIfTI + per-voxel-chunked HDF5)', async () => {
    expect(drawSplits(3, 5, SEED)).toEqual(ref.splits);
    const run = await importAndCheck('zscored', [{ betas: 'session1.nii.gz', design: 'design1.csv' }, { betas: 'session2.h5', design: 'design2.json' }], true, ref.zscored);
    expect(run.provenance).toMatchObject({ nRepeats: 3, extraPresentations: 1, zscore: true });
  });

  it('keeps percent signal change without z-scoring, and reads per-trial-chunked HDF5 the same', async () => {
    await importAndCheck('raw', [{ betas: 'session1.nii.gz', design: 'design1.csv' }, { betas: 'session2_trials.h5', design: 'design2.json' }], false, ref.raw);
  });

  it('reads one design table spanning both sessions (a session column, as NSD ships its design) the same', async () => {
    // design1.csv and design2.json as one table: session, trial within the session, stimulus.
    const first = readFileSync(path.join(DIR, 'design1.csv'), 'utf8').trim().split('\n').slice(1).map((line) => `1,${line}`);
    const second = (JSON.parse(readFileSync(path.join(DIR, 'design2.json'), 'utf8')) as (string | null)[]).map((id, t) => `02,${t},${id ?? ''}`);
    await upload('design-all.csv', Buffer.from(['session,trial,stimulus', ...first, ...second].join('\n')));
    await importAndCheck(
      'one-design',
      [
        { betas: 'session1.nii.gz', design: 'design-all.csv', designSession: '1' },
        { betas: 'session2.h5', design: 'design-all.csv', designSession: '2' },
      ],
      true,
      ref.zscored,
    );
    // Without saying which session, the table is refused before anything is queued.
    const body = await api.gql(IMPORT, { i: { subjectId, stimulusSetId, name: uniqueName('no-session'), sessions: [{ betasArtifactId: files['session1.nii.gz'], designArtifactId: files['design-all.csv'] }] } });
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'sessions[0].designArtifactId' } });
    expect(body.errors?.[0].message).toMatch(/spans sessions \("1", "02"\); say which one/);
  });

  describe('refuses bad sessions and designs, importing nothing', () => {
    const session1 = () => readFileSync(path.join(DIR, 'session1.nii.gz'));
    const gql = async (sessions: { betas: string; design: string }[], extra: Record<string, unknown> = {}) =>
      api.gql(IMPORT, {
        i: {
          subjectId,
          stimulusSetId,
          name: uniqueName('bad'),
          sessions: await Promise.all(sessions.map(async (s) => ({ betasArtifactId: await upload(s.betas), designArtifactId: await upload(s.design) }))),
          ...extra,
        },
      });
    const refusal = (body: { errors?: any[] }) => ({ message: body.errors?.[0]?.message as string, ...body.errors?.[0]?.extensions });

    it('before queueing: unknown stimuli, too few presentations, more trials than volumes, other grids, bad headers', async () => {
      await upload('unknown.json', Buffer.from(JSON.stringify(['img-0', 'img-9', 'img-1'])));
      const unknown = refusal(await gql([{ betas: 'session1.nii.gz', design: 'unknown.json' }]));
      expect(unknown).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sessions[0].designArtifactId', file: 'unknown.json' });
      expect(unknown.message).toMatch(/unknown\.json: names 1 stimulus presentation\(s\) not in the stimulus set: "img-9" \(trial 1\)/);

      const few = refusal(await gql([{ betas: 'session1.nii.gz', design: 'design1.csv' }, { betas: 'session2.h5', design: 'design2.json' }], { nRepeats: 4 }));
      expect(few).toMatchObject({ code: 'BAD_USER_INPUT', nRepeats: 4 });
      expect(few.message).toMatch(/show 5 image\(s\) fewer than 4 times: img-1 \(3\).*ask for nRepeats: 3/);

      await upload('eleven.json', Buffer.from(JSON.stringify([...'01234501234'].map((d) => `img-${d}`))));
      const long = refusal(await gql([{ betas: 'session1.nii.gz', design: 'eleven.json' }]));
      expect(long).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sessions[0].betasArtifactId', trials: 11, volumes: 10 });
      expect(long.message).toMatch(/The design lists 11 trials but session1\.nii\.gz holds 10 volumes/);

      const shape = refusal(await gql([{ betas: 'session1.nii.gz', design: 'design1.csv' }, { betas: 'mask_other_shape.nii.gz', design: 'design1.csv' }]));
      expect(shape).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sessions[1].betasArtifactId', expected: [4, 5, 3], found: [4, 5, 2] });
      expect(shape.message).toMatch(/mask_other_shape\.nii\.gz holds volumes of shape \[4, 5, 2\] but session1\.nii\.gz holds \[4, 5, 3\]/);

      await upload('one.json', Buffer.from('["img-0"]'));
      const affine = refusal(await gql([{ betas: 'qform_only.nii', design: 'one.json' }]));
      expect(affine.message).toMatch(/qform_only\.nii has affine \[\[.*\]\] but the subject's space has \[\[/);

      // Header dims that promise more data than an uncompressed file holds.
      const raw = gunzipSync(session1());
      await upload('short.nii', raw.subarray(0, raw.length - 100));
      const short = refusal(await gql([{ betas: 'short.nii', design: 'design1.csv' }]));
      expect(short).toMatchObject({ code: 'BAD_USER_INPUT', headerField: 'dim' });
      expect(short.message).toMatch(/short\.nii: header dim \[4, 5, 3, 10\] of int16 promises \d+ bytes but the file has \d+/);

      // An unsupported datatype (complex64, code 32, 64 bits).
      const complex = Buffer.from(raw);
      complex.writeInt16LE(32, 70);
      complex.writeInt16LE(64, 72);
      await upload('complex.nii', complex);
      const dtype = refusal(await gql([{ betas: 'complex.nii', design: 'design1.csv' }]));
      expect(dtype).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sessions[0].betasArtifactId', headerField: 'datatype', datatype: 32 });
      expect(dtype.message).toMatch(/complex\.nii: datatype complex64 \(code 32\) is not supported/);
    });

    it('while importing: a truncated .nii.gz, an HDF5 on another grid or with fewer trials fail the run and leave the set FAILED without data', async () => {
      const bytes = session1();
      await upload('truncated.nii.gz', bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await upload('nine.json', Buffer.from(JSON.stringify(Array.from({ length: 10 }, (_, i) => `img-${i % 6}`))));
      const cases: [{ betas: string; design: string }[], RegExp][] = [
        [[{ betas: 'session1.nii.gz', design: 'design1.csv' }, { betas: 'truncated.nii.gz', design: 'design1.csv' }], /truncated\.nii\.gz: (cannot be decompressed after \d+ bytes|header dim \[4, 5, 3, 10\] promises 10 volume)/],
        [[{ betas: 'session1.nii.gz', design: 'design1.csv' }, { betas: 'session_other_shape.h5', design: 'design2.json' }], /session_other_shape\.h5 \(session 2\) holds volumes of shape \[4, 5, 5\] \(h5py shape \[9, 5, 5, 4\].*but the subject's space is \[4, 5, 3\]/],
        [[{ betas: 'session1.nii.gz', design: 'design1.csv' }, { betas: 'session2.h5', design: 'nine.json' }], /nine\.json lists 10 trials but session2\.h5 \(session 2\) holds 9 volumes/],
      ];
      for (const [sessions, message] of cases) {
        const body = await gql(sessions, { nRepeats: 2 });
        expect(body.errors).toBeUndefined();
        const { importResponseSessions: out } = body.data;
        const run = await waitForRun(api, out.run.id);
        expect(run.status).toBe('FAILED');
        expect(run.error.message).toMatch(message);
        const { responseSet } = await api.ok(SET, { id: out.responseSet.id });
        expect(responseSet).toMatchObject({ status: 'FAILED', artifact: null, noiseCeiling: null, splitHalf: null });
        expect(responseSet.error).toMatch(message);
      }
    });

    it('needs a subject in brain space', async () => {
      const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, {
        i: { datasetId: (await api.ok(`query($id: ID!) { subject(id: $id) { dataset { id } } }`, { id: subjectId })).subject.dataset.id, name: uniqueName('flat'), nVoxels: 46 },
      });
      const body = await api.gql(IMPORT, { i: { subjectId: createSubject.id, stimulusSetId, sessions: [{ betasArtifactId: await upload('session1.nii.gz'), designArtifactId: await upload('design1.csv') }] } });
      expect(refusal(body)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'subjectId' });
    });
  });
});
