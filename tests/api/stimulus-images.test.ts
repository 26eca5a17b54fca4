// Stimulus images through the API: one image attached, whole sets from .zip and .tar archives
// (matched by file stem or by manifest), the all-or-nothing error report, and the decoded sizes
// against the fixture images' known sizes (tests/fixtures/vision, made by PIL).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTar, writeZip } from '../../src/images/archive-writer';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact } from '../helpers/upload';

const FIX = join(__dirname, '../fixtures/vision/images');
const img = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));
const IMPORT = `mutation($input: ImportStimulusImagesInput!) { importStimulusImages(input: $input) { attached withoutImage stimulusSet { nImages } } }`;
const IMAGES = `query($id: ID!) { stimulusSet(id: $id) { nImages stimuli(first: 10) { edges { node { externalId image { width height format downloadUrl thumbnailUrl } } } } } }`;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

async function stimulusSet(ids: string[]) {
  const { createDataset: ds } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name: uniqueName('img') } });
  const { createStimulusSet: set } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id stimuli(first: 100) { edges { node { id externalId } } } } }`, {
    i: { datasetId: ds.id, name: 'images', stimuli: ids.map((externalId) => ({ externalId })) },
  });
  return { id: set.id as string, stimulusId: Object.fromEntries(set.stimuli.edges.map((e: any) => [e.node.externalId, e.node.id])) as Record<string, string> };
}

test('attaches one image: format and size as decoded (EXIF applied), original and thumbnail downloadable', async () => {
  const set = await stimulusSet(['a', 'b']);
  const art = await uploadArtifact(api, img('07-exif-rotate90.jpg'), 'a.jpg');
  await api.ok(`mutation($i: AttachStimulusImageInput!) { attachStimulusImage(input: $i) { id } }`, { i: { stimulusId: set.stimulusId.a, artifactId: art.id } });
  const { stimulusSet: s } = await api.ok(IMAGES, { id: set.id });
  expect(s.nImages).toBe(1);
  const a = s.stimuli.edges[0].node.image;
  expect(a).toMatchObject({ width: 200, height: 300, format: 'jpeg' });
  expect(s.stimuli.edges[1].node.image).toBeNull();
  expect(Buffer.from(await (await fetch(a.downloadUrl)).arrayBuffer()).equals(Buffer.from(img('07-exif-rotate90.jpg')))).toBe(true);
  const thumb = Buffer.from(await (await fetch(a.thumbnailUrl)).arrayBuffer());
  expect(thumb.subarray(0, 2).toString('hex')).toBe('ffd8');

  const notImage = await uploadArtifact(api, new TextEncoder().encode('x,y\n1,2\n'), 'table.csv');
  const bad = await api.gql(`mutation($i: AttachStimulusImageInput!) { attachStimulusImage(input: $i) { id } }`, { i: { stimulusId: set.stimulusId.b, artifactId: notImage.id } });
  expect(bad.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'artifactId', reason: 'not-an-image' });
});

test('a .zip matched by file stem attaches every image; sizes as PIL reports them', async () => {
  const names = ['02-gray.png', '03-palette.png', '09-lossy.webp'];
  const set = await stimulusSet(names.map((n) => n.replace(/\.\w+$/, '')).concat(['no-image']));
  const zip = writeZip(names.map((n) => ({ name: `stimuli/${n}`, data: img(n) })).concat([{ name: '__MACOSX/._x', data: new Uint8Array(3) }]));
  const art = await uploadArtifact(api, zip, 'set.zip');
  const { importStimulusImages: r } = await api.ok(IMPORT, { input: { stimulusSetId: set.id, artifactId: art.id } });
  expect(r).toEqual({ attached: 3, withoutImage: 1, stimulusSet: { nImages: 3 } });
  const { stimulusSet: s } = await api.ok(IMAGES, { id: set.id });
  expect(s.stimuli.edges.map((e: any) => e.node.image && [e.node.image.width, e.node.image.height, e.node.image.format])).toEqual([[200, 333, 'png'], [150, 97, 'png'], [256, 190, 'webp'], null]);
});

test('a .tar made by GNU tar, matched by a manifest listed last', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ba-tar-'));
  mkdirSync(join(dir, 'a-long-directory-name-'.repeat(4)), { recursive: true });
  const long = join('a-long-directory-name-'.repeat(4), 'image-with-a-long-name.png');
  writeFileSync(join(dir, long), img('11-tiny.png'));
  writeFileSync(join(dir, 'two.jpg'), img('13-gray.jpg'));
  writeFileSync(join(dir, 'manifest.csv'), `externalId,path\nstim-1,${long}\nstim-2,two.jpg\n`);
  execFileSync('tar', ['-cf', join(dir, 'set.tar'), '-C', dir, long, 'two.jpg', 'manifest.csv']);
  const set = await stimulusSet(['stim-1', 'stim-2']);
  const art = await uploadArtifact(api, readFileSync(join(dir, 'set.tar')), 'set.tar');
  const { importStimulusImages: r } = await api.ok(IMPORT, { input: { stimulusSetId: set.id, artifactId: art.id } });
  expect(r).toMatchObject({ attached: 2, withoutImage: 0 });
  const { stimulusSet: s } = await api.ok(IMAGES, { id: set.id });
  expect(s.stimuli.edges.map((e: any) => [e.node.image.width, e.node.image.height])).toEqual([[31, 47], [333, 250]]);
});

test('every bad entry is reported at once and nothing is attached', async () => {
  const set = await stimulusSet(['s1', 's2', 's3']);
  const jpeg = img('12-nsd-size.jpg');
  const tar = writeTar([
    { name: 's1.jpg', data: jpeg },
    { name: 's1.png', data: img('02-gray.png') },
    { name: 'unknown.png', data: img('03-palette.png') },
    { name: 's2.jpg', data: jpeg.subarray(0, 3000) },
    { name: 's3.png', data: new TextEncoder().encode('not an image') },
  ]);
  const art = await uploadArtifact(api, tar, 'bad.tar');
  const res = await api.gql(IMPORT, { input: { stimulusSetId: set.id, artifactId: art.id } });
  const ext = res.errors![0].extensions;
  expect(ext).toMatchObject({ code: 'BAD_USER_INPUT', field: 'artifactId', errorCount: 4 });
  expect(ext.errors.map((e: any) => e.entry)).toEqual(['s1.png', 's2.jpg', 's3.png', 'unknown.png']);
  expect(ext.errors[0].reason).toMatch(/second image for stimulus s1 \(also s1\.jpg\)/);
  expect(ext.errors[1].reason).toMatch(/truncated or corrupt/);
  expect(ext.errors[2].reason).toMatch(/not an image/);
  expect(ext.errors[3].reason).toMatch(/no stimulus with externalId "unknown"/);
  expect(await api.db.stimulusImage.count({ where: { stimulus: { stimulusSetId: set.id } } })).toBe(0);

  const notArchive = await uploadArtifact(api, img('02-gray.png'), 'x.png');
  const res2 = await api.gql(IMPORT, { input: { stimulusSetId: set.id, artifactId: notArchive.id } });
  expect(res2.errors![0].message).toMatch(/neither a \.zip nor a \.tar/);
});

test('a refused archive leaves no artifacts behind: images stored while reading it are removed, rows and bytes', async () => {
  const sharp = (await import('sharp')).default;
  // Images no earlier test stored (a colour of their own), so each is new content.
  const fresh = (seed: number) =>
    sharp({ create: { width: 9, height: 7, channels: 3, background: { r: (seed * 53) % 256, g: (seed * 97) % 256, b: Date.now() % 256 } } }).png().toBuffer();
  const set = await stimulusSet(['f1', 'f2', 'f3']);
  const kept = await uploadArtifact(api, img('02-gray.png'), 'kept.png'); // content that exists already stays
  const zip = writeZip([
    { name: 'f1.png', data: new Uint8Array(await fresh(1)) },
    { name: 'f2.png', data: new Uint8Array(await fresh(2)) },
    { name: 'f3.png', data: img('02-gray.png') },
    { name: 'nobody.png', data: new Uint8Array(await fresh(3)) },
  ]);
  const art = await uploadArtifact(api, zip, 'refused.zip');
  const store = api.services.store as import('../../src/storage').FsArtifactStore;
  const objects = async () => {
    const { readdirSync, existsSync } = await import('node:fs');
    const dir = join(store.rootDir, 'sha256');
    return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes('/')).sort() : [];
  };
  const [rowsBefore, objectsBefore] = [await api.db.artifact.count(), await objects()];
  const res = await api.gql(IMPORT, { input: { stimulusSetId: set.id, artifactId: art.id } });
  expect(res.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCount: 1 });
  expect(await api.db.artifact.count()).toBe(rowsBefore);
  expect(await objects()).toEqual(objectsBefore);
  expect(await api.db.artifact.findUnique({ where: { id: kept.id } })).not.toBeNull();
  expect(await api.db.stimulusImage.count({ where: { stimulus: { stimulusSetId: set.id } } })).toBe(0);
});
