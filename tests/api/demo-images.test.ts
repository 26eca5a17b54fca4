// The demo's image stimulus set: deterministic images, attached through the archive import, and
// a FEATURE_EXTRACTION run over them that leaves one READY feature set per layer.
import { createContext } from '../../src/resolvers/context';
import { demoImages, seedDemoImages } from '../../src/embedded/demo-images';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { waitForRun } from '../helpers/upload';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
});
afterAll(() => api.close());

test('the same images on every call, with concepts and captions that describe them', () => {
  const a = demoImages(6);
  const b = demoImages(6);
  expect(a.map((i) => Buffer.from(i.pixels).toString('base64'))).toEqual(b.map((i) => Buffer.from(i.pixels).toString('base64')));
  expect(a.map((i) => i.concepts)).toEqual([['disc', 'red'], ['square', 'red'], ['bar', 'red'], ['disc', 'green'], ['square', 'green'], ['bar', 'green']]);
  expect(a[0].caption).toBe('a red disc on a striped grey background');
  // A red disc image holds pure red pixels (the shape) and grey ones (the background).
  const px = a[0].pixels;
  const red = Array.from({ length: px.length / 3 }, (_, i) => px[i * 3] === 210 && px[i * 3 + 1] === 40).filter(Boolean).length;
  expect(red).toBeGreaterThan(100);
});

test('seeding attaches every image and extracts features of each backbone layer', async () => {
  const { createDataset: ds } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id lab { id } } }`, { i: { name: uniqueName('demo') } });
  const runId = await seedDemoImages(createContext(api.services), ds.id, ds.lab.id, 24);
  const run = await waitForRun(api, runId);
  expect(run.status).toBe('SUCCEEDED');
  const { dataset } = await api.ok(`query($id: ID!) { dataset(id: $id) { stimulusSets { name nStimuli nImages stimuli(first: 1) { edges { node { concepts caption image { width height format thumbnailUrl } } } } } } }`, { id: ds.id });
  expect(dataset.stimulusSets[0]).toMatchObject({ name: 'demo-images', nStimuli: 24, nImages: 24 });
  expect(dataset.stimulusSets[0].stimuli.edges[0].node).toMatchObject({ concepts: ['disc', 'red'], image: { width: 96, height: 96, format: 'png', thumbnailUrl: expect.any(String) } });
  const sets = await api.db.featureSet.findMany({ where: { model: { name: 'tiny-vit', labId: ds.lab.id } }, orderBy: { layer: 'asc' } });
  expect(sets.map((s) => [s.layer, s.status, s.dim])).toEqual([['block1', 'READY', 32], ['block2', 'READY', 32]]);
});
