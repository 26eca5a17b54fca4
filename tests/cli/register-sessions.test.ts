// `brainalign register` with a subject in brain space and responses from session files: the
// manifest's mask, NIfTI and HDF5 sessions and design tables are uploaded as they are and the
// import gives the numpy reference's responses (scripts/fixtures/nifti_reference.py).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { catalogManifest } from '../../src/cli/manifest';
import { parseNpyHeader } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { cliHarness, type CliHarness } from './run-cli';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'nifti');
const ref = JSON.parse(readFileSync(path.join(FIXTURES, 'reference.json'), 'utf8')).sessions;
let api: TestApi;
let cli: CliHarness;

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  cli = await cliHarness(api);
});
afterAll(async () => {
  await api.close();
  cli.remove();
});

it('registers a mask subject and imports its sessions from a manifest; a second run changes nothing', async () => {
  const work = path.join(cli.dir, 'nsd');
  mkdirSync(work);
  for (const f of ['mask.nii.gz', 'session1.nii.gz', 'session2.h5', 'design1.csv', 'design2.json']) copyFileSync(path.join(FIXTURES, f), path.join(work, f));
  writeFileSync(
    path.join(work, 'catalog.yaml'),
    [
      'datasets:',
      '  - name: nsd-sessions',
      '    subjects: [{ name: subj01, mask: mask.nii.gz }]',
      `    stimulusSets: [{ name: images, stimuli: [${ref.stimuli.map((s: string) => `{ externalId: ${s} }`).join(', ')}] }]`,
      '    responseSessions:',
      '      - subject: subj01',
      '        stimulusSet: images',
      '        splitHalfSplits: 5',
      '        sessions:',
      '          - { betas: session1.nii.gz, design: design1.csv }',
      '          - { betas: session2.h5, design: design2.json, hdf5Dataset: betas }',
      '',
    ].join('\n'),
  );
  const first = await cli.run(['register', path.join(work, 'catalog.yaml'), '--json']);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.json.actions.map((a: any) => [a.kind, a.name, a.action, a.status ?? null])).toEqual([
    ['dataset', 'nsd-sessions', 'created', null],
    ['subject', 'nsd-sessions/subj01', 'created', null],
    ['stimulusSet', 'nsd-sessions/images', 'created', null],
    ['responseSet', 'nsd-sessions/subj01/betas', 'created', 'SUCCEEDED'],
  ]);
  const { responseSet } = await cli.gql(`query($id: ID!) { responseSet(id: $id) { nRepeats splitHalfSplits artifact { downloadUrl shape } } }`, { id: first.json.actions[3].id });
  expect(responseSet).toMatchObject({ nRepeats: 3, splitHalfSplits: 5, artifact: { shape: ref.zscored.shape } });
  const bytes = Buffer.from(await (await fetch(responseSet.artifact.downloadUrl)).arrayBuffer());
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + parseNpyHeader(bytes).dataOffset));
  ref.zscored.values.forEach((want: number, i: number) => expect(Math.abs(values[i] - want)).toBeLessThan(1e-4));

  const second = await cli.run(['register', path.join(work, 'catalog.yaml')]);
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/0 created, 4 already there/);
});

it('accepts one design table for all sessions in a manifest, each session naming its own (designSession, text or number)', () => {
  const parsed = catalogManifest.parse({
    datasets: [
      {
        name: 'nsd',
        responseSessions: [
          {
            subject: 'subj01',
            stimulusSet: 'images',
            sessions: [
              { betas: 'b1.h5', design: 'design.csv', designSession: 1 },
              { betas: 'b2.h5', design: 'design.csv', designSession: '02' },
            ],
          },
        ],
      },
    ],
  });
  expect(parsed.datasets[0].responseSessions[0].sessions.map((s) => s.designSession)).toEqual([1, '02']);
  expect(() => catalogManifest.parse({ datasets: [{ name: 'nsd', responseSessions: [{ subject: 's', stimulusSet: 'i', sessions: [{ betas: 'b', design: 'd', session: 1 }] }] }] })).toThrow();
});
