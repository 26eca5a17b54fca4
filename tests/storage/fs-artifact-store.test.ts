// FsArtifactStore: the shared contract, served through its own HTTP handler like the embedded
// API server does, plus the handler's refusals, downloads and the on-disk layout.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { MultipartUploadTarget, SingleUploadTarget } from '../../src/storage/artifact-store';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store';
import { createFsArtifactHttpHandler, parseRange, type NodeHttpHandler } from '../../src/storage/fs-http-handler';
import { artifactStoreContract } from './artifact-store-contract';

const PART = 256 * 1024;
let dir: string;
let server: http.Server;
let baseUrl: string;
let store: FsArtifactStore;
let handler: NodeHttpHandler;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fs-store-'));
  // The API server mounts the handler in front of everything else; other paths fall through.
  server = http.createServer(async (req, res) => {
    if (await handler(req, res)) return;
    res.writeHead(418).end('not mine');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  store = new FsArtifactStore({ rootDir: dir, publicBaseUrl: baseUrl, signingSecret: 'test-secret-0123456789', partSize: PART });
  handler = createFsArtifactHttpHandler(store);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

artifactStoreContract('FsArtifactStore', { checksPartEtags: true }, () => ({ store, partSize: PART }));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error.message;

describe('FsArtifactStore specifics', () => {
  test('objects live at sha256/<2>/<64> under the root; no temp files remain', async () => {
    const body = randomBytes(1000);
    const { sha256 } = await store.putStream(body);
    expect(existsSync(path.join(dir, 'sha256', sha256.slice(0, 2), sha256))).toBe(true);
    await store.putStream(Readable.from((async function* () { yield body; throw new Error('boom'); })())).catch(() => undefined);
    expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
  });

  test('the handler ignores paths outside its prefix', async () => {
    const res = await fetch(`${baseUrl.replace('/api', '')}/graphql`);
    expect(res.status).toBe(418);
    const res2 = await fetch(`${baseUrl}/artifactsX/staging/a`, { method: 'PUT', body: 'x' });
    expect(res2.status).toBe(418);
  });

  test('CORS preflight', async () => {
    const res = await fetch(`${baseUrl}/artifacts/staging/uploads/x`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag');
  });

  test('refusals: expired, wrong method, wrong size, too long, too short, unknown path', async () => {
    const key = `uploads/${randomUUID()}`;
    const expired = (await store.createUpload(key, 10, { expiresInSeconds: -5 })) as SingleUploadTarget;
    let res = await fetch(expired.url, { method: 'PUT', body: randomBytes(10) });
    expect(res.status).toBe(403);
    expect((await errorOf(res))).toMatch(/^URL expired at /);

    const t = (await store.createUpload(key, 10)) as SingleUploadTarget;
    res = await fetch(t.url);
    expect(res.status).toBe(405);
    await res.arrayBuffer();

    res = await fetch(t.url, { method: 'PUT', body: randomBytes(11) });
    expect(res.status).toBe(400);
    expect((await errorOf(res))).toBe('this URL takes exactly 10 bytes, Content-Length says 11');

    // Without Content-Length (chunked), the body is counted as it streams.
    const stream = (n: number) => Readable.toWeb(Readable.from([randomBytes(n)]));
    res = await fetch(t.url, { method: 'PUT', body: stream(25), duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    await res.arrayBuffer();
    res = await fetch(t.url, { method: 'PUT', body: stream(4), duplex: 'half' } as RequestInit);
    expect(res.status).toBe(400);
    expect((await errorOf(res))).toBe('expected 10 bytes, received 4');
    await expect(store.hashStaging(key)).rejects.toThrow('not found');

    res = await fetch(`${baseUrl}/artifacts/nothing-here`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });

  test('a part URL cannot be replayed for another part or upload', async () => {
    const key = `uploads/${randomUUID()}`;
    const body = randomBytes(PART + 5);
    const { multipart } = (await store.createUpload(key, body.length)) as MultipartUploadTarget;
    const u = new URL(multipart.parts[1].url);
    u.searchParams.set('partNumber', '1');
    const res = await fetch(u, { method: 'PUT', body: body.subarray(0, 5) });
    expect(res.status).toBe(403);
    await store.abortMultipart(key, multipart.uploadId);
    await expect(store.completeMultipart(key, multipart.uploadId, ['x', 'y'])).rejects.toThrow('not found');
  });

  test('completing needs every part exactly once', async () => {
    const key = `uploads/${randomUUID()}`;
    const body = randomBytes(PART * 2);
    const { multipart } = (await store.createUpload(key, body.length)) as MultipartUploadTarget;
    const r = await fetch(multipart.parts[0].url, { method: 'PUT', body: body.subarray(0, PART) });
    const etag = r.headers.get('etag')!;
    await expect(store.completeMultipart(key, multipart.uploadId, [etag, etag])).rejects.toThrow('part 2 of upload');
    await expect(store.completeMultipart(key, multipart.uploadId, [etag])).rejects.toThrow('needs parts 1-2 exactly once, got 1');
    await expect(store.completeMultipart('other/key', multipart.uploadId, [etag])).rejects.toThrow('not found for staging key other/key');
  });

  test('deleteStaging also drops unfinished multipart parts; cleanTemp removes stale temp files', async () => {
    const key = `uploads/${randomUUID()}`;
    const body = randomBytes(PART * 2);
    const { multipart } = (await store.createUpload(key, body.length)) as MultipartUploadTarget;
    expect((await fetch(multipart.parts[0].url, { method: 'PUT', body: body.subarray(0, PART) })).status).toBe(200);
    const before = await readdir(path.join(dir, 'multipart'));
    await store.deleteStaging(key);
    expect((await readdir(path.join(dir, 'multipart'))).length).toBe(before.length - 1);
    await expect(store.completeMultipart(key, multipart.uploadId, ['a', 'b'])).rejects.toThrow(`multipart upload ${multipart.uploadId} not found`);

    const stale = path.join(dir, 'tmp', 'left-by-a-crash');
    await writeFile(stale, 'x');
    await utimes(stale, new Date(Date.now() - 2 * 86400_000), new Date(Date.now() - 2 * 86400_000));
    await writeFile(path.join(dir, 'tmp', 'in-progress'), 'y');
    expect(await store.cleanTemp()).toBe(1);
    expect(await readdir(path.join(dir, 'tmp'))).toEqual(['in-progress']);
    await rm(path.join(dir, 'tmp', 'in-progress'));
  });

  test('cleanTemp removes a fresh temp file at once when the process that wrote it is gone', async () => {
    // A process that has exited: its pid is free (until reused, when the idle rule still applies).
    const { spawnSync } = await import('node:child_process');
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const host = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);
    const dead = `${host}-${deadPid}-0123456789ab-${randomUUID()}`;
    await writeFile(path.join(dir, 'tmp', dead), 'left by a killed upload');
    // This process, but an earlier incarnation with the same pid (containers restart as pid 1).
    const earlier = `${host}-${process.pid}-ba9876543210-${randomUUID()}`;
    await writeFile(path.join(dir, 'tmp', earlier), 'x');
    const live = `${host}-${process.ppid}-0123456789ab-${randomUUID()}`;
    await writeFile(path.join(dir, 'tmp', live), 'a live process is writing this');
    // Written on another host sharing the directory: a local pid says nothing, only age does.
    const elsewhere = `0badc0de-${deadPid}-0123456789ab-${randomUUID()}`;
    await writeFile(path.join(dir, 'tmp', elsewhere), 'another host is writing this');
    expect(await store.cleanTemp()).toBe(2);
    expect((await readdir(path.join(dir, 'tmp'))).sort()).toEqual([live, elsewhere].sort());
    await rm(path.join(dir, 'tmp', live));
    await rm(path.join(dir, 'tmp', elsewhere));
  });

  test('a malformed percent-encoding in an upload path is a 400, not a server error', async () => {
    for (const bad of ['%E0%A4%A', '%', 'a%zz']) {
      const res = await fetch(`${baseUrl}/artifacts/staging/${bad}?size=1`, { method: 'PUT', body: 'x' });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.message).toContain('percent-encoding');
    }
  });

  test('downloads: HEAD, suffix and open ranges, unsatisfiable ranges, tampered filename', async () => {
    const body = randomBytes(1000);
    const { sha256 } = await store.putStream(body);
    const url = await store.presignDownload(sha256, 'a.npy');
    let res = await fetch(url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('1000');
    expect(res.headers.get('etag')).toBe(`"${sha256}"`);
    res = await fetch(url, { headers: { Range: 'bytes=-10' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 990-999/1000');
    expect(Buffer.from(await res.arrayBuffer()).equals(body.subarray(990))).toBe(true);
    res = await fetch(url, { headers: { Range: 'bytes=0-0' } });
    expect(Buffer.from(await res.arrayBuffer()).equals(body.subarray(0, 1))).toBe(true);
    res = await fetch(url, { headers: { Range: 'bytes=1000-' } });
    expect(res.status).toBe(416);
    await res.arrayBuffer();
    const other = new URL(url);
    other.searchParams.set('filename', 'evil.exe');
    res = await fetch(other);
    expect(res.status).toBe(403);
    await res.arrayBuffer();
    expect(sha(body)).toBe(sha256);
  });

  test('non-ASCII download names get an RFC 6266 filename* as well', async () => {
    const { sha256 } = await store.putStream(randomBytes(10));
    const res = await fetch(await store.presignDownload(sha256, 'Gehirn-Größe (1).npy'));
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="Gehirn-Gr__e (1).npy"; filename*=UTF-8''Gehirn-Gr%C3%B6%C3%9Fe%20%281%29.npy`,
    );
    await res.arrayBuffer();
  });

  test('parseRange', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=2-4', 10)).toEqual({ start: 2, end: 5 });
    expect(parseRange('bytes=8-20', 10)).toEqual({ start: 8, end: 10 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 10 });
    expect(parseRange('bytes=-30', 10)).toEqual({ start: 0, end: 10 });
    expect(parseRange('bytes=0-1,4-5', 10)).toBeUndefined();
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-2', 10)).toBe('unsatisfiable');
  });

  test('without publicBaseUrl, URL-issuing calls explain what is missing', async () => {
    const bare = new FsArtifactStore({ rootDir: dir });
    await expect(bare.createUpload('k', 1)).rejects.toThrow('FsArtifactStore needs publicBaseUrl');
  });
});
