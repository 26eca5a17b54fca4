// Interrupted and late uploads leave nothing in the store: the API is a child process (the real
// entry point, embedded profile on the test database) killed with SIGKILL while a single PUT and
// a multipart part are half sent; the restarted API sweeps the leftovers before serving, the
// upload can still be completed, and PUTs to finalised or unknown uploads write nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { FsArtifactStore } from '../../src/storage';
import { testDatabaseUrl } from '../helpers/db';
import { freePort } from '../helpers/ports';

const ROOT = path.resolve(__dirname, '../..');
const SECRET = 'interruption-test-upload-secret-0123';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ba-interrupt-'));
const artifacts = path.join(dataDir, 'artifacts');
let port: number;
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startApi(): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: testDatabaseUrl(),
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    UPLOAD_SECRET: SECRET,
    UPLOAD_PART_SIZE_MB: '1',
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000',
  };
  delete env.REDIS_URL;
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => line.includes('Stop:') && resolve());
    proc.once('exit', (code) => reject(new Error(`the API exited with ${code} before it was ready`)));
  });
  return proc;
}

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const CREATE = `mutation($input: CreateArtifactUploadInput!) { createArtifactUpload(input: $input) { id url parts { partNumber url offset size } } }`;
const FINALIZE = `mutation($input: FinalizeArtifactUploadInput!) { finalizeArtifactUpload(input: $input) { id sha256 } }`;

async function createUpload(bytes: Buffer, filename: string) {
  const body = await gql(CREATE, { input: { filename, size: String(bytes.length), sha256: createHash('sha256').update(bytes).digest('hex') } });
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  const up = body.data.createArtifactUpload;
  // Offsets and sizes are BigInt scalars (strings on the wire).
  const parts = up.parts?.map((p: any) => ({ ...p, offset: Number(p.offset), size: Number(p.size) }));
  return { ...up, parts } as { id: string; url: string | null; parts: { partNumber: number; url: string; offset: number; size: number }[] | null };
}

/** Starts a PUT that sends `sent` of `total` bytes and then waits, as a client cut off mid-transfer. */
function halfPut(url: string, total: number, sent: Buffer): http.ClientRequest {
  const req = http.request(url, { method: 'PUT', headers: { 'content-length': total } });
  req.on('error', () => undefined); // the server dies under it
  req.write(sent);
  return req;
}

const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []);
const files = (dir: string): string[] => list(dir).filter((f) => statSync(path.join(dir, f)).isFile());

async function until(what: string, cond: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function put(url: string, body: Buffer): Promise<Response> {
  return fetch(url, { method: 'PUT', body });
}

test('a killed API leaves no temp or staged bytes after restart, and late or unknown PUTs write nothing', async () => {
  port = await freePort();
  child = await startApi();

  const single = randomBytes(600 * 1024);
  const big = randomBytes(2 * 1024 * 1024 + 1234); // three 1 MiB parts
  const up1 = await createUpload(single, 'single.bin');
  const up2 = await createUpload(big, 'parts.bin');
  expect(up1.url).toBeTruthy();
  expect(up2.parts).toHaveLength(3);

  // Half of the single body and half of part 2 reach the server; then it is killed.
  const r1 = halfPut(up1.url!, single.length, single.subarray(0, 300 * 1024));
  const p2 = up2.parts![1];
  const r2 = halfPut(p2.url, p2.size, big.subarray(p2.offset, p2.offset + p2.size / 2));
  const tmp = path.join(artifacts, 'tmp');
  await until('both bodies to be streaming to temp files', () => files(tmp).filter((f) => statSync(path.join(tmp, f)).size > 0).length === 2);
  const exited = new Promise((r) => child!.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  r1.destroy();
  r2.destroy();
  expect(files(tmp)).toHaveLength(2); // what the killed process left behind

  child = await startApi();
  // Swept before the restarted API answered: no temp file, nothing staged, only the open
  // multipart upload's manifest (the upload itself is still valid and can be resumed).
  expect(files(tmp)).toEqual([]);
  expect(files(path.join(artifacts, 'staging'))).toEqual([]);
  expect(files(path.join(artifacts, 'multipart')).map((f) => path.basename(f))).toEqual(['manifest.json']);

  // Both uploads complete after the restart (the signing secret is the installation's).
  expect((await put(up1.url!, single)).status).toBe(200);
  const parts = [];
  for (const p of up2.parts!) {
    const res = await put(p.url, big.subarray(p.offset, p.offset + p.size));
    expect([res.status, res.status === 200 ? '' : await res.text()]).toEqual([200, '']);
    parts.push({ partNumber: p.partNumber, etag: res.headers.get('etag')! });
  }
  const f1 = await gql(FINALIZE, { input: { uploadId: up1.id } });
  const f2 = await gql(FINALIZE, { input: { uploadId: up2.id, parts } });
  expect(f1.errors).toBeUndefined();
  expect(f2.errors).toBeUndefined();
  const stored = () => files(path.join(artifacts, 'sha256')).sort();
  const before = stored();
  expect(before).toHaveLength(2);

  // Late PUTs to the finalised uploads: 404, and nothing is written anywhere.
  const late1 = await put(up1.url!, single);
  expect(late1.status).toBe(404);
  expect(((await late1.json()) as any).error.code).toBe('NOT_FOUND');
  const late2 = await put(up2.parts![0].url, big.subarray(0, up2.parts![0].size));
  expect(late2.status).toBe(404);
  // A validly signed URL for an upload the API never created: refused the same way.
  const forged = new FsArtifactStore({ rootDir: path.join(dataDir, 'elsewhere'), publicBaseUrl: `http://127.0.0.1:${port}`, signingSecret: SECRET });
  const target = await forged.createUpload(`uploads/${randomUUID()}`, 10);
  expect(target.kind).toBe('single');
  const unknown = await put((target as { url: string }).url, Buffer.alloc(10));
  expect(unknown.status).toBe(404);
  expect(files(tmp)).toEqual([]);
  expect(files(path.join(artifacts, 'staging'))).toEqual([]);
  expect(files(path.join(artifacts, 'multipart'))).toEqual([]);
  expect(stored()).toEqual(before);

  const stopped = new Promise((r) => child!.once('exit', r));
  child.kill('SIGINT');
  await stopped;
  child = undefined;
});
