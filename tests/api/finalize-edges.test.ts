// Finalize's edge cases answer stable codes: concurrent finalizes of one upload (one artifact,
// the others the same artifact or CONFLICT), multipart finalize with a missing part or a wrong
// ETag (BAD_USER_INPUT on parts, and a corrected retry succeeds), and another lab's pending
// upload (NOT_FOUND, naming no lab).
import { createHash, randomBytes } from 'node:crypto';
import { startTestApi, type TestApi } from '../helpers/api';
import { addMember, createLab } from '../helpers/access';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ env: { UPLOAD_PART_SIZE_MB: '1' } });
});
afterAll(() => api.close());

const CREATE = `mutation($input: CreateArtifactUploadInput!) { createArtifactUpload(input: $input) { id url parts { partNumber url offset size } } }`;
const FINALIZE = `mutation($input: FinalizeArtifactUploadInput!) { finalizeArtifactUpload(input: $input) { id sha256 } }`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function staged(bytes: Buffer, who = api as Pick<TestApi, 'ok'>) {
  const { createArtifactUpload: up } = await who.ok(CREATE, { input: { filename: 'x.bin', size: String(bytes.length), sha256: sha(bytes) } });
  const etags: { partNumber: number; etag: string }[] = [];
  if (up.parts) {
    for (const p of up.parts) {
      const res = await fetch(p.url, { method: 'PUT', body: bytes.subarray(Number(p.offset), Number(p.offset) + Number(p.size)) });
      etags.push({ partNumber: p.partNumber, etag: res.headers.get('etag')! });
    }
  } else expect((await fetch(up.url, { method: 'PUT', body: bytes })).status).toBe(200);
  return { id: up.id as string, etags };
}

test('five concurrent finalizes: one artifact, every answer that artifact or CONFLICT, never INTERNAL', async () => {
  const bytes = randomBytes(300 * 1024);
  const { id } = await staged(bytes);
  const answers = await Promise.all(Array.from({ length: 5 }, () => api.gql(FINALIZE, { input: { uploadId: id } })));
  const ok = answers.filter((a) => !a.errors).map((a) => a.data.finalizeArtifactUpload);
  const codes = answers.filter((a) => a.errors).map((a) => a.errors![0].extensions.code);
  expect(ok.length).toBeGreaterThanOrEqual(1);
  expect(new Set(ok.map((a) => a.id)).size).toBe(1);
  expect(codes.every((c) => c === 'CONFLICT')).toBe(true);
  expect(await api.db.artifact.count({ where: { sha256: sha(bytes) } })).toBe(1);
});

test('multipart: a missing part or a wrong ETag is BAD_USER_INPUT on parts; the corrected finalize succeeds', async () => {
  const bytes = randomBytes(2 * 1024 * 1024 + 10);
  const { id, etags } = await staged(bytes);
  expect(etags).toHaveLength(3);
  const missing = await api.gql(FINALIZE, { input: { uploadId: id, parts: etags.slice(0, 2) } });
  expect(missing.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parts' });
  expect(missing.errors![0].message).toMatch(/needs parts 1-3/);
  const wrong = await api.gql(FINALIZE, { input: { uploadId: id, parts: [etags[0], { partNumber: 2, etag: '0'.repeat(32) }, etags[2]] } });
  expect(wrong.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parts' });
  expect(wrong.errors![0].message).toMatch(/part 2 .* has ETag/);
  const none = await api.gql(FINALIZE, { input: { uploadId: id } });
  expect(none.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parts' });
  const done = await api.ok(FINALIZE, { input: { uploadId: id, parts: etags } });
  expect(done.finalizeArtifactUpload.sha256).toBe(sha(bytes));
});

test("another lab's pending upload answers NOT_FOUND, naming neither the lab nor its id", async () => {
  const labA = await createLab(api, 'fin-a');
  const labB = await createLab(api, 'fin-b');
  const a = api.as({ token: (await addMember(api, labA, 'SUBMITTER')).token });
  const b = api.as({ token: (await addMember(api, labB, 'SUBMITTER')).token });
  const { id } = await staged(randomBytes(1000), a);
  const res = await b.gql(FINALIZE, { input: { uploadId: id } });
  expect(res.errors![0].extensions.code).toBe('NOT_FOUND');
  expect(JSON.stringify(res.errors)).not.toContain(labA);
  // The same answer as for an upload that never existed.
  const never = await b.gql(FINALIZE, { input: { uploadId: '00000000-0000-4000-8000-000000000000' } });
  expect(never.errors![0].extensions.code).toBe('NOT_FOUND');
  expect((await a.ok(FINALIZE, { input: { uploadId: id } })).finalizeArtifactUpload.id).toBeTruthy();
});
