import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { sweepExpiredUploads, sweepUploads } from '../../src/domain/artifacts';
import { decodeNpy, encodeNpy, FsArtifactStore } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { uploadArtifact } from '../helpers/upload';

let api: TestApi;
beforeAll(async () => {
  // A small part size so the multipart path is exercised with a small file.
  api = await startTestApi({ env: { UPLOAD_PART_SIZE_MB: '1' } });
});
afterAll(() => api.close());

const CREATE = `mutation($input: CreateArtifactUploadInput!) { createArtifactUpload(input: $input) { id url method headers parts { partNumber url offset size } } }`;
const FINALIZE = `mutation($input: FinalizeArtifactUploadInput!) { finalizeArtifactUpload(input: $input) { id sha256 size dtype shape downloadUrl } }`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('artifact uploads', () => {
  it('uploads an .npy directly to the store, records dtype and shape, and serves it back', async () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i / 4);
    const bytes = encodeNpy({ dtype: '<f4', shape: [3, 4], data });
    const artifact = await uploadArtifact(api, bytes, 'x.npy');
    const { artifact: read } = await api.ok(`query($id: ID!) { artifact(id: $id) { sha256 size dtype shape downloadUrl } }`, { id: artifact.id });
    expect(read).toMatchObject({ sha256: sha(bytes), size: String(bytes.length), dtype: '<f4', shape: [3, 4] });
    const res = await fetch(read.downloadUrl);
    expect(Array.from(decodeNpy(new Uint8Array(await res.arrayBuffer())).data as Float32Array)).toEqual(Array.from(data));
    // Content addressing: the same bytes again give the same artifact.
    expect((await uploadArtifact(api, bytes, 'copy.npy')).id).toBe(artifact.id);
  });

  it('splits large files into parts and verifies the assembled bytes', async () => {
    const bytes = new Uint8Array(2.5 * 1024 * 1024).map((_, i) => (i * 31) % 251);
    const artifact = await uploadArtifact(api, bytes, 'big.bin');
    expect(artifact.sha256).toBe(sha(bytes));
  });

  it('refuses bytes that do not match the announced hash and leaves nothing behind', async () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const { createArtifactUpload: up } = await api.ok(CREATE, { input: { filename: 'x.bin', size: '4', sha256: sha(new Uint8Array([9, 9, 9, 9])) } });
    await fetch(up.url, { method: 'PUT', body: bytes });
    const body = await api.gql(FINALIZE, { input: { uploadId: up.id } });
    expect(body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0].message).toMatch(/do not match/);
    expect(await api.db.artifactUpload.count({ where: { id: up.id } })).toBe(0);
    expect(await api.db.artifact.count({ where: { sha256: sha(bytes) } })).toBe(0);
  });

  it('refuses a truncated .npy with the reason', async () => {
    const good = encodeNpy({ dtype: '<f4', shape: [10, 10], data: new Float32Array(100) });
    const truncated = good.subarray(0, good.length - 4);
    await expect(uploadArtifact(api, truncated, 'truncated.npy')).rejects.toThrow(/not a valid \.npy file.*400 data bytes/s);
  });

  it('refuses a file mislabelled as .npy with the byte that gave it away', async () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...new Array(60).fill(0)]);
    await expect(uploadArtifact(api, zip, 'really-a-zip.npy')).rejects.toThrow(/not a valid \.npy file.*byte 0/s);
  });

  it('sweeps uploads that were started and never finalized', async () => {
    const bytes = new Uint8Array([5, 6, 7]);
    const { createArtifactUpload: up } = await api.ok(CREATE, { input: { filename: 'abandoned.bin', size: '3', sha256: sha(bytes) } });
    await fetch(up.url, { method: 'PUT', body: bytes });
    const row = await api.db.artifactUpload.findUniqueOrThrow({ where: { id: up.id } });
    await api.db.artifactUpload.update({ where: { id: up.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await sweepExpiredUploads(api.services)).toBeGreaterThanOrEqual(1);
    expect(await api.db.artifactUpload.count({ where: { id: up.id } })).toBe(0);
    await expect(api.services.store.hashStaging(row.stagingKey)).rejects.toThrow();
  });

  it('sweeps staged bytes and multipart uploads that no open upload owns, and keeps those of open uploads', async () => {
    const store = api.services.store as FsArtifactStore;
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const { createArtifactUpload: open } = await api.ok(CREATE, { input: { filename: 'open.bin', size: '4', sha256: sha(bytes) } });
    expect((await fetch(open.url, { method: 'PUT', body: bytes })).status).toBe(200);
    // Left by a process that wrote them without (or after) an upload row: no row owns them.
    const orphanKey = `uploads/${randomUUID()}`;
    await store.receiveStaging(orphanKey, 4, Readable.from([Buffer.from(bytes)]));
    const orphanParts = await store.createUpload(`uploads/${randomUUID()}`, store.partSize * 2);
    expect(orphanParts.kind).toBe('multipart');
    const later = new Date(Date.now() + 3600_000);
    const swept = await sweepUploads(api.services, later);
    expect(swept.orphans).toBeGreaterThanOrEqual(2);
    await expect(store.hashStaging(orphanKey)).rejects.toThrow('not found');
    const keys: string[] = [];
    for await (const entry of store.listStaging()) keys.push(entry.stagingKey);
    expect(keys).toContain(`uploads/${open.id}`);
    expect(keys).not.toContain(orphanKey);
  });

  it('refuses malformed upload requests with codes and fields', async () => {
    const badHash = await api.gql(CREATE, { input: { filename: 'x.npy', size: '10', sha256: 'abc' } });
    expect(badHash.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sha256' });
    const huge = await api.gql(CREATE, { input: { filename: 'x.npy', size: String(2 ** 50), sha256: 'a'.repeat(64) } });
    expect(huge.errors?.[0].extensions).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'size' });
    const unknown = await api.gql(FINALIZE, { input: { uploadId: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const notSent = await api.ok(CREATE, { input: { filename: 'y.bin', size: '3', sha256: sha(new Uint8Array([1, 2, 3])) } });
    const early = await api.gql(FINALIZE, { input: { uploadId: notSent.createArtifactUpload.id } });
    expect(early.errors?.[0].message).toMatch(/No bytes arrived/);
  });
});
