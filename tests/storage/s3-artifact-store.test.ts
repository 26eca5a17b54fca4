// S3ArtifactStore against the in-process S3 emulator (@20minutes/s3rver): the shared contract,
// plus what only concerns S3 (key prefix, multipart copy, the emulator helper itself).
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import * as Minio from 'minio';
import type { MultipartUploadTarget } from '../../src/storage/artifact-store';
import { S3ArtifactStore } from '../../src/storage/s3-artifact-store';
import { startS3Emulator, type S3Emulator } from '../helpers/s3-emulator';
import { artifactStoreContract } from './artifact-store-contract';

const PART = 5 * 1024 * 1024; // the smallest part S3 accepts, to keep multipart tests small
let emu: S3Emulator;
let store: S3ArtifactStore;
let client: Minio.Client;

beforeAll(async () => {
  emu = await startS3Emulator();
  client = new Minio.Client({ ...emu, pathStyle: true });
  store = S3ArtifactStore.fromConfig(emu, { partSize: PART });
});

afterAll(async () => {
  await emu.stop();
});

artifactStoreContract('S3ArtifactStore', { checksPartEtags: false }, () => ({ store, partSize: PART }));

async function keys(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of client.listObjectsV2(emu.bucket, prefix, true)) names.push((item as { name: string }).name);
  return names.sort();
}

describe('S3ArtifactStore specifics', () => {
  test('keys: sha256/<2>/<64> under the prefix; nothing left in tmp/ or staging/', async () => {
    const prefixed = new S3ArtifactStore({ client, bucket: emu.bucket, prefix: 'lab-a/', partSize: PART });
    const body = randomBytes(PART + 1000); // multipart putStream
    const { sha256 } = await prefixed.putStream(Readable.from([body.subarray(0, 1000), body.subarray(1000)]));
    expect(await keys('lab-a/')).toEqual([`lab-a/sha256/${sha256.slice(0, 2)}/${sha256}`]);
    // After the whole contract above (failed puts, promotions, refused uploads) nothing is left over.
    expect(await keys('tmp/')).toEqual([]);
    expect(await keys('staging/')).toEqual([]);
  });

  test('listStaging lists staged objects (a late PUT to a presigned URL lands there) for the upload sweep', async () => {
    const prefixed = new S3ArtifactStore({ client, bucket: emu.bucket, prefix: 'sweep/', partSize: PART });
    const key = `uploads/${randomUUID()}`;
    const target = await prefixed.createUpload(key, 10);
    expect(target.kind).toBe('single');
    expect((await fetch((target as { url: string }).url, { method: 'PUT', body: Buffer.alloc(10) })).status).toBe(200);
    const listed: { stagingKey: string; modifiedAt: Date; uploadId?: string }[] = [];
    for await (const entry of prefixed.listStaging()) listed.push(entry);
    expect(listed.filter((e) => !e.uploadId).map((e) => e.stagingKey)).toEqual([key]);
    expect(listed[0].modifiedAt).toBeInstanceOf(Date);
    await prefixed.deleteStaging(key);
  });

  test('objects above multipartCopyAbove are moved with a multipart copy (composeObject)', async () => {
    const small = new S3ArtifactStore({ client, bucket: emu.bucket, prefix: 'compose/', partSize: PART, multipartCopyAbove: 1000 });
    const body = randomBytes(5000);
    const put = await small.putStream(body);
    expect(put.created).toBe(true);
    const back: Buffer[] = [];
    for await (const c of await small.get(put.sha256)) back.push(c as Buffer);
    expect(Buffer.concat(back).equals(body)).toBe(true);
    expect(await keys('compose/tmp/')).toEqual([]);
  });

  test('part size: at least 5 MiB; grows past 10 000 parts', async () => {
    expect(() => new S3ArtifactStore({ client, bucket: emu.bucket, partSize: 1024 })).toThrow('S3 part size must be between 5 MiB and 5 GiB');
    const key = `uploads/${randomUUID()}`;
    const huge = 10_000 * PART + 1; // would need 10 001 parts of 5 MiB
    const t = (await store.createUpload(key, huge)) as MultipartUploadTarget;
    expect(t.multipart.partSize).toBe(PART + 1024 * 1024);
    expect(t.multipart.parts.length).toBe(Math.ceil(huge / (PART + 1024 * 1024)));
    expect(t.multipart.parts.at(-1)!.offset + t.multipart.parts.at(-1)!.size).toBe(huge);
  });

  test('emulator helper: ListMultipartUploads answers, so minio putObject can go multipart', async () => {
    const uploads: unknown[] = [];
    await new Promise<void>((resolve, reject) =>
      client.listIncompleteUploads(emu.bucket, '', true).on('data', (d) => uploads.push(d)).on('end', resolve).on('error', reject),
    );
    expect(uploads).toEqual([]);
    // A client with a 5 MiB part size sends an 11 MB stream of unknown length in parts.
    const small = new Minio.Client({ ...emu, pathStyle: true, partSize: PART });
    const body = randomBytes(11 * 1024 * 1024);
    await small.putObject(emu.bucket, 'helper-check', Readable.from([body]));
    expect((await small.statObject(emu.bucket, 'helper-check')).size).toBe(body.length);
  });

  // The emulator's gaps, pinned so a fixed emulator (or a regression here) shows up.
  test('known emulator gap: AbortMultipartUpload answers 405 (MinIO and S3 support it)', async () => {
    const key = `uploads/${randomUUID()}`;
    const t = (await store.createUpload(key, PART + 1)) as MultipartUploadTarget;
    await expect(store.abortMultipart(key, t.multipart.uploadId)).rejects.toMatchObject({ code: 'MethodNotAllowed' });
  });

  test("known emulator gap: download names with ' ( ) or non-ASCII break its signature check", async () => {
    const { sha256 } = await store.putStream(randomBytes(10));
    for (const name of ["it's (1).npy", 'Größe.npy']) {
      const url = await store.presignDownload(sha256, name);
      expect(url).toContain('%27'); // minio encodes RFC 3986-style, as S3 and MinIO expect
      const res = await fetch(url);
      expect(res.status).toBe(403);
      await res.arrayBuffer();
    }
  });
});
