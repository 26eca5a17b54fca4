// A cancel between sessions: the IMPORT_SESSIONS handler stops at the next session's checkpoint,
// stores no response array and leaves the set without data (the executor then marks the run
// CANCELLED). Driven directly with the handler so the cancel lands exactly between sessions.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importSessions } from '../../src/jobs/import-sessions';
import { RunCancelledError } from '../../src/runs/types';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact } from '../helpers/upload';

const DIR = path.join(__dirname, '..', 'fixtures', 'nifti');
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

it('stops between sessions when cancelled, storing nothing', async () => {
  const up = async (f: string) => (await uploadArtifact(api, readFileSync(path.join(DIR, f)), f)).id;
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: uniqueName('cancel') });
  const { createSubjectFromMask: made } = await api.ok(`mutation($i: CreateSubjectFromMaskInput!) { createSubjectFromMask(input: $i) { subject { id } } }`, {
    i: { datasetId: ds.id, name: 's', maskArtifactId: await up('mask.nii.gz') },
  });
  const { createStimulusSet: set } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
    i: { datasetId: ds.id, name: 'images', stimuli: Array.from({ length: 6 }, (_, i) => ({ externalId: `img-${i}` })) },
  });
  const { importResponseSessions: out } = await api.ok(
    `mutation($i: ImportResponseSessionsInput!) { importResponseSessions(input: $i) { run { id } responseSet { id } } }`,
    {
      i: {
        subjectId: made.subject.id,
        stimulusSetId: set.id,
        sessions: [
          { betasArtifactId: await up('session1.nii.gz'), designArtifactId: await up('design1.csv') },
          { betasArtifactId: await up('session2.h5'), designArtifactId: await up('design2.json') },
        ],
      },
    },
  );
  const run = await api.db.run.findUniqueOrThrow({ where: { id: out.run.id } });
  const artifactsBefore = await api.db.artifact.count();
  const messages: string[] = [];
  const controller = new AbortController();
  const ctx = {
    run,
    params: importSessions.params.parse(run.params),
    db: api.db,
    store: api.services.store,
    signal: controller.signal,
    attempt: 1,
    recordProvenance: () => undefined,
    progress: async (_f: number, message: string) => {
      messages.push(message);
      // The user cancels while session 1 is read; the next checkpoint is the start of session 2.
      if (message.startsWith('session 1 of 2')) controller.abort();
      else if (controller.signal.aborted) throw new RunCancelledError();
    },
  };
  await expect(importSessions.handle(ctx)).rejects.toBeInstanceOf(RunCancelledError);
  expect(messages.at(-1)).toMatch(/^session 2 of 2: reading session2\.h5/);
  const setRow = await api.db.responseSet.findUniqueOrThrow({ where: { id: out.responseSet.id } });
  expect(setRow).toMatchObject({ artifactId: null, noiseCeilingArtifactId: null, splitHalfArtifactId: null });
  expect(setRow).toMatchObject({ status: 'FAILED', error: 'The import was cancelled' });
  expect(await api.db.artifact.count()).toBe(artifactsBefore);
});
