// `brainalign images`: a directory (packed into a .tar, uploaded in parts, resumable) and an
// archive, attached to a stimulus set found by name; sizes as PIL reports them for the fixtures.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeZip } from '../../src/images/archive-writer';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { cliHarness, type CliHarness } from './run-cli';

const FIX = path.join(__dirname, '../fixtures/vision/images');
let api: TestApi;
let cli: CliHarness;
beforeAll(async () => {
  // 1 MiB parts so the packed directory goes the multipart way.
  api = await startTestApi({ env: { UPLOAD_PART_SIZE_MB: '1' } });
  cli = await cliHarness(api);
});
afterAll(async () => {
  await api.close();
  cli.remove();
});

async function stimulusSet(name: string, ids: string[]) {
  const { createDataset: ds } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id name } }`, { i: { name: uniqueName('cli-img') } });
  await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, { i: { datasetId: ds.id, name, stimuli: ids.map((externalId) => ({ externalId })) } });
  return ds.name as string;
}

test('a directory of images is packed, uploaded and attached by file stem', async () => {
  const names = readdirSync(FIX).sort();
  const dir = path.join(cli.dir, 'stimuli');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  names.forEach((n, i) => copyFileSync(path.join(FIX, n), path.join(dir, i % 2 ? 'sub' : '', n)));
  const setName = uniqueName('set');
  await stimulusSet(setName, names.map((n) => n.replace(/\.\w+$/, '')));
  const r = await cli.run(['images', dir, '--stimulus-set', setName, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.json).toMatchObject({ attached: names.length, withoutImage: 0, packedFiles: names.length });
  // Running it again sends the same archive (content-addressed) and attaches the same images.
  const again = await cli.run(['images', dir, '--stimulus-set', setName, '--json']);
  expect(again.json.artifact).toBe(r.json.artifact);
});

test('an archive with an unmatched entry is refused with every entry named (exit 2)', async () => {
  const setName = uniqueName('set');
  const dataset = await stimulusSet(setName, ['02-gray']);
  const zip = path.join(cli.dir, 'set.zip');
  writeFileSync(zip, writeZip([{ name: '02-gray.png', data: readFileSync(path.join(FIX, '02-gray.png')) }, { name: 'stray.png', data: readFileSync(path.join(FIX, '11-tiny.png')) }]));
  const r = await cli.run(['images', zip, '--stimulus-set', setName, '--dataset', dataset, '--json']);
  expect(r.code).toBe(2);
  expect(r.json.error.details.errors).toEqual([{ entry: 'stray.png', reason: expect.stringMatching(/no stimulus with externalId "stray"/) }]);
  const unknown = await cli.run(['images', zip, '--stimulus-set', 'no-such-set', '--json']);
  expect(unknown.code).toBe(3);
});
