// The brain-space demo of `npm start` (src/embedded/demo-brain-space.ts) seeded into a test
// database: the subject comes from its NIfTI mask and label volume, its ridge run is queued once
// the imports are READY, and the run's r map shows the planted SNR (high in the ROIs, low outside).
import { Readable } from 'node:stream';
import { startTestApi, type TestApi } from '../helpers/api';
import { waitForRun } from '../helpers/upload';
import { registerModel } from '../../src/domain/catalog';
import { DEMO_SPACE_AFFINE, DEMO_SPACE_SHAPE, queueBrainSpaceDemo, seedBrainSpaceDemo } from '../../src/embedded/demo-brain-space';
import { whenReady } from '../../src/embedded/demo-common';
import { silentLog } from '../../src/log';
import { createContext } from '../../src/resolvers/context';
import { decodeNpy, toFloat32 } from '../../src/storage';
import { readSingleVolume } from '../../src/storage/nifti';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  await registerModel(createContext(api.services), { name: 'clip', kind: 'BACKBONE', family: 'clip', featureWidth: 512, visibility: 'PUBLIC' });
});
afterAll(() => api.close());

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

it('seeds a subject in brain space whose encoding run maps r in the subject space, higher in the ROIs', async () => {
  expect(await seedBrainSpaceDemo(api.services, silentLog)).toBe(true);
  // As npm start does: the run is queued once the imports are READY.
  const queueing = whenReady(silentLog, 'demo brain-space run', () => queueBrainSpaceDemo(api.services, silentLog));
  const deadline = Date.now() + 120_000;
  let runId: string | undefined;
  while (!runId) {
    const { runs } = await api.ok('{ runs(filter: { kind: ENCODING_RIDGE }) { edges { node { id } } } }');
    runId = runs.edges[0]?.node.id;
    if (Date.now() > deadline) throw new Error('the demo encoding run was not queued');
    if (!runId) await new Promise((r) => setTimeout(r, 250));
  }
  queueing.stop();
  expect((await waitForRun(api, runId, 180_000)).status).toBe('SUCCEEDED');
  // A second seeding finds the dataset, and queueing again finds the run: nothing new.
  expect(await seedBrainSpaceDemo(api.services, silentLog)).toBe(false);
  expect(await queueBrainSpaceDemo(api.services, silentLog)).toBe(true);
  expect((await api.ok('{ runs(filter: { kind: ENCODING_RIDGE }) { totalCount } }')).runs.totalCount).toBe(1);

  const { run } = await api.ok(
    `query($id: ID!) { run(id: $id) { brainMapOutputs { name nRows }
       outputs { name artifact { downloadUrl } }
       brainMap(output: "pearsonR") { nVoxels values voxelIjk niftiUrl subject { name space { shape affine } rois { name voxelIndices } } } } }`,
    { id: runId },
  );
  expect(run.brainMapOutputs.map((o: any) => o.name)).toEqual(expect.arrayContaining(['pearsonR', 'explainedVariance', 'alpha', 'cvScore']));
  const map = run.brainMap;
  expect(map.subject.space).toEqual({ shape: DEMO_SPACE_SHAPE, affine: [0, 1, 2, 3].map((r) => DEMO_SPACE_AFFINE.slice(4 * r, 4 * r + 4)) });
  expect(map.subject.rois.map((r: any) => r.name).sort()).toEqual(['EBA', 'FFA', 'PPA', 'V1', 'V4']);

  // The map holds the run's own pearsonR output at each voxel's (i, j, k).
  const url = run.outputs.find((o: any) => o.name === 'pearsonR').artifact.downloadUrl;
  const r = toFloat32(decodeNpy(Buffer.from(await (await fetch(url)).arrayBuffer())));
  expect(r.length).toBe(map.nVoxels);
  const { data, header } = await readSingleVolume(Readable.from([Buffer.from(await (await fetch(map.niftiUrl)).arrayBuffer())]), 'map.nii.gz');
  header.affine.forEach((v, i) => expect(v).toBe(DEMO_SPACE_AFFINE[i]));
  const [nx, ny] = DEMO_SPACE_SHAPE;
  for (let v = 0; v < map.nVoxels; v++) {
    const [i, j, k] = map.voxelIjk.slice(3 * v, 3 * v + 3);
    expect(data[i + nx * (j + ny * k)]).toBe(r[v]);
  }
  expect(Array.from(data).filter((x) => !Number.isNaN(x)).length).toBe(map.nVoxels);

  // Planted SNR: 0.4 to 1.6 in the ROIs, 0.15 elsewhere.
  const inRoi = new Set<number>(map.subject.rois.flatMap((roi: any) => roi.voxelIndices));
  const rIn = Array.from(r).filter((_, v) => inRoi.has(v));
  const rOut = Array.from(r).filter((_, v) => !inRoi.has(v));
  expect(mean(rIn)).toBeGreaterThan(0.5);
  expect(mean(rOut)).toBeLessThan(0.3);
}, 300_000);
