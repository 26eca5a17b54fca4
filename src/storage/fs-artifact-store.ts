/**
 * ArtifactStore in a local data directory (embedded profile). Layout under rootDir mirrors the
 * S3 keys (see keys.ts) plus `multipart/<hash of staging key>/<uploadId>/` for parts in flight.
 *
 * Every write goes to a temporary file in the same filesystem, is fsynced, and is renamed into
 * place, so readers never see a partial object and a crash leaves at most a stray temp file.
 *
 * Direct client uploads go to the API's own HTTP server: createUpload issues HMAC-signed,
 * expiring URLs under `{publicBaseUrl}/artifacts/`, served by createFsArtifactHttpHandler
 * (fs-http-handler.ts), which calls receiveStaging / receivePart / openArtifact below.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import {
  checkExpected,
  DEFAULT_DOWNLOAD_TTL_SECONDS,
  DEFAULT_PART_SIZE,
  DEFAULT_UPLOAD_TTL_SECONDS,
  normalizeParts,
  planParts,
  type ArtifactStat,
  type ArtifactStore,
  type CompletedPart,
  type CreateUploadOptions,
  type PutOptions,
  type PutResult,
  type StagingDigest,
  type UploadTarget,
} from './artifact-store';
import { ArtifactIntegrityError, ArtifactNotFoundError, InvalidStorageRequestError, StorageError } from './errors';
import { DigestPassThrough, hashStream, toReadable } from './hashing';
import { artifactKey, assertSize, assertStagingKey, normalizeSha256 } from './keys';
import { signedQuery } from './url-signing';

export interface FsArtifactStoreOptions {
  /** Directory holding everything; created if missing. */
  rootDir: string;
  /**
   * Base URL clients reach the API server at (e.g. http://localhost:4000); upload and download
   * URLs are `{publicBaseUrl}/artifacts/...`. Needed only for createUpload and presignDownload.
   */
  publicBaseUrl?: string;
  /** HMAC key for those URLs. Default: random per process (URLs die with the process). */
  signingSecret?: string | Buffer;
  /** Uploads above this many bytes are split into parts. Default 64 MiB. */
  partSize?: number;
  uploadUrlTtlSeconds?: number;
  downloadUrlTtlSeconds?: number;
}

interface MultipartManifest {
  stagingKey: string;
  /** Total bytes. */
  size: number;
  partSize: number;
  partCount: number;
}

const UPLOAD_ID_RE = /^[0-9a-f]{32}$/;
/** Tells this process's temp files from those of an earlier process that had the same pid (containers). */
const PROCESS_TOKEN = randomBytes(6).toString('hex');
/** The host a temp file was written on: liveness of a pid means something only on the same host. */
const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);
const TEMP_NAME_RE = /^([0-9a-f]{8})-(\d+)-([0-9a-f]{12})-[0-9a-f-]{36}$/;

/**
 * Whether the temp file `name` may still be written to by a live process: false only when its
 * writer was a process of this host that is gone; undefined when only its age can tell (written
 * on another host sharing the directory, or by an older version).
 */
function tempOwnerAlive(name: string): boolean | undefined {
  const m = TEMP_NAME_RE.exec(name);
  if (!m || m[1] !== HOST_TAG) return undefined;
  const pid = Number(m[2]);
  if (pid === process.pid) return m[3] === PROCESS_TOKEN;
  try {
    process.kill(pid, 0);
    return true; // alive (or a process of another namespace with that pid: its age decides)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What an upload sweep removed. */
export interface TempSweep {
  /** Temp files of interrupted writes. */
  temp: number;
  /** Staged uploads and multipart uploads no open upload owns. */
  staging: number;
}

function isNoEnt(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

export class FsArtifactStore implements ArtifactStore {
  readonly rootDir: string;
  readonly partSize: number;
  readonly signingSecret: Buffer;
  /** URL path the HTTP handler answers under, e.g. '/artifacts/' or '/api/artifacts/'. */
  readonly routePrefix: string;
  private readonly publicBaseUrl?: string;
  private readonly uploadTtl: number;
  private readonly downloadTtl: number;

  constructor(options: FsArtifactStoreOptions) {
    this.rootDir = path.resolve(options.rootDir);
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(this.partSize) || this.partSize < 1) throw new RangeError(`part size must be a positive integer, got ${this.partSize}`);
    const secret = options.signingSecret;
    this.signingSecret = secret && secret.length > 0 ? Buffer.from(secret) : randomBytes(32);
    this.publicBaseUrl = options.publicBaseUrl?.replace(/\/+$/, '');
    this.routePrefix = `${this.publicBaseUrl ? new URL(this.publicBaseUrl).pathname.replace(/\/+$/, '') : ''}/artifacts/`;
    this.uploadTtl = options.uploadUrlTtlSeconds ?? DEFAULT_UPLOAD_TTL_SECONDS;
    this.downloadTtl = options.downloadUrlTtlSeconds ?? DEFAULT_DOWNLOAD_TTL_SECONDS;
  }

  // --- paths -------------------------------------------------------------------------------

  private objectPath(sha256: string) {
    return path.join(this.rootDir, ...artifactKey(sha256).split('/'));
  }

  private stagingPath(stagingKey: string) {
    return path.join(this.rootDir, 'staging', ...assertStagingKey(stagingKey).split('/'));
  }

  /** Parts of all multipart uploads to one staging key, so deleteStaging can drop them too. */
  private uploadsOf(stagingKey: string) {
    const keyHash = createHash('sha256').update(assertStagingKey(stagingKey)).digest('hex').slice(0, 32);
    return path.join(this.rootDir, 'multipart', keyHash);
  }

  private uploadDir(stagingKey: string, uploadId: string) {
    if (!UPLOAD_ID_RE.test(uploadId)) throw new ArtifactNotFoundError(`multipart upload ${uploadId} not found`, uploadId);
    return path.join(this.uploadsOf(stagingKey), uploadId);
  }

  /**
   * A new temp file name `<host>-<pid>-<process token>-<uuid>`: the owner is in the name, so a sweep
   * can tell a dead process's leftovers from a live write however young they are.
   */
  private async tmpPath() {
    const dir = path.join(this.rootDir, 'tmp');
    await mkdir(dir, { recursive: true });
    return path.join(dir, `${HOST_TAG}-${process.pid}-${PROCESS_TOKEN}-${randomUUID()}`);
  }

  /**
   * Streams `source` into a new temp file through `observe` (hashing, size limits), fsyncs it
   * and returns its path; the caller renames it into place. Removes the file on failure.
   */
  private async writeTemp(source: AsyncIterable<Uint8Array> | Readable, observe: Transform): Promise<string> {
    const tmp = await this.tmpPath();
    try {
      await pipeline(source, observe, createWriteStream(tmp, { flags: 'wx' }));
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      return tmp;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private async renameInto(from: string, to: string) {
    await mkdir(path.dirname(to), { recursive: true });
    await rename(from, to);
  }

  /** Moves a file to the artifact path unless that content exists already (then drops it). */
  private async moveToFinal(from: string, sha256: string, size: number): Promise<PutResult> {
    const dest = this.objectPath(sha256);
    if (await this.exists(sha256)) {
      await rm(from, { force: true });
      return { sha256, size, created: false };
    }
    await this.renameInto(from, dest);
    return { sha256, size, created: true };
  }

  // --- content-addressed objects -----------------------------------------------------------

  async putStream(body: Readable | Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const counter = new DigestPassThrough('sha256');
    const tmp = await this.writeTemp(toReadable(body), counter);
    const { digest: sha256, size } = counter.result();
    const problem = checkExpected(options, sha256, size);
    if (problem) {
      await rm(tmp, { force: true });
      throw new ArtifactIntegrityError(problem);
    }
    return this.moveToFinal(tmp, sha256, size);
  }

  async get(sha256: string): Promise<Readable> {
    return (await this.openArtifact(sha256)).stream;
  }

  async getRange(sha256: string, offset: number, length?: number): Promise<Readable> {
    assertSize(offset, 'offset');
    if (length !== undefined) assertSize(length, 'length');
    const { size } = await this.stat(sha256);
    if (length === 0) return Readable.from([]);
    if (offset >= size) throw new InvalidStorageRequestError(`range starting at byte ${offset} is past the end of artifact ${sha256} (${size} bytes)`);
    const end = length === undefined ? size : Math.min(size, offset + length);
    return (await this.openArtifact(sha256, { start: offset, end })).stream;
  }

  /**
   * Opens an artifact for reading bytes [start, end) (whole file by default). The file is opened
   * before returning, so a missing artifact throws here rather than in the stream.
   */
  async openArtifact(sha256: string, range?: { start: number; end: number }): Promise<{ size: number; stream: Readable }> {
    const file = this.objectPath(sha256);
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isNoEnt(err)) throw new ArtifactNotFoundError(`artifact ${sha256} not found`, sha256, { cause: err });
      throw err;
    }
    const { size } = await fh.stat();
    if (range && range.end <= range.start) {
      await fh.close();
      return { size, stream: Readable.from([]) };
    }
    return { size, stream: fh.createReadStream(range ? { start: range.start, end: range.end - 1 } : {}) };
  }

  async stat(sha256: string): Promise<ArtifactStat> {
    try {
      const s = await stat(this.objectPath(sha256));
      return { sha256: normalizeSha256(sha256), size: s.size };
    } catch (err) {
      if (isNoEnt(err)) throw new ArtifactNotFoundError(`artifact ${sha256} not found`, sha256, { cause: err });
      throw err;
    }
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await this.stat(sha256);
      return true;
    } catch (err) {
      if (err instanceof ArtifactNotFoundError) return false;
      throw err;
    }
  }

  async delete(sha256: string): Promise<boolean> {
    try {
      await unlink(this.objectPath(sha256));
      return true;
    } catch (err) {
      if (isNoEnt(err)) return false;
      throw err;
    }
  }

  // --- direct uploads ----------------------------------------------------------------------

  private requireBaseUrl(): string {
    if (!this.publicBaseUrl) {
      throw new StorageError('FsArtifactStore needs publicBaseUrl to issue upload or download URLs', 'INTERNAL');
    }
    return this.publicBaseUrl;
  }

  async createUpload(stagingKey: string, size: number, options: CreateUploadOptions = {}): Promise<UploadTarget> {
    assertStagingKey(stagingKey);
    assertSize(size);
    const base = this.requireBaseUrl();
    const ttl = options.expiresInSeconds ?? this.uploadTtl;
    const expires = Math.floor(Date.now() / 1000) + ttl;
    const expiresAt = new Date(expires * 1000);
    const target = `staging/${stagingKey}`;
    const href = (query: string) => `${base}/artifacts/${target}?${query}`;
    if (size <= this.partSize) {
      const url = href(signedQuery(this.signingSecret, { method: 'PUT', target, size, expires }));
      return { kind: 'single', url, method: 'PUT', headers: {}, expiresAt };
    }
    const uploadId = randomBytes(16).toString('hex');
    const plan = planParts(size, this.partSize);
    const manifest: MultipartManifest = { stagingKey, size, partSize: this.partSize, partCount: plan.length };
    const dir = this.uploadDir(stagingKey, uploadId);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const parts = plan.map((p) => ({
      ...p,
      url: href(signedQuery(this.signingSecret, { method: 'PUT', target, size: p.size, uploadId, partNumber: p.partNumber, expires })),
    }));
    return { kind: 'multipart', multipart: { uploadId, partSize: this.partSize, parts }, expiresAt };
  }

  private async readManifest(uploadId: string, stagingKey: string): Promise<MultipartManifest> {
    let manifest: MultipartManifest;
    try {
      manifest = JSON.parse(await readFile(path.join(this.uploadDir(stagingKey, uploadId), 'manifest.json'), 'utf8'));
    } catch (err) {
      if (isNoEnt(err)) throw new ArtifactNotFoundError(`multipart upload ${uploadId} not found for staging key ${stagingKey}`, uploadId, { cause: err });
      throw err;
    }
    if (manifest.stagingKey !== stagingKey) {
      throw new ArtifactNotFoundError(`multipart upload ${uploadId} not found for staging key ${stagingKey}`, uploadId);
    }
    return manifest;
  }

  /**
   * Writes a single-PUT upload body to the staging key (replacing an earlier one). The body must
   * be exactly `size` bytes. `stillOpen`, asked once the bytes are on disk, lets the caller refuse
   * a body that finished after its upload was finalised or dropped: then nothing is kept.
   * Returns the body's MD5 hex as the ETag, as S3 does.
   */
  async receiveStaging(
    stagingKey: string,
    size: number,
    body: AsyncIterable<Uint8Array> | Readable,
    stillOpen?: () => Promise<boolean>,
  ): Promise<{ etag: string }> {
    const dest = this.stagingPath(stagingKey);
    const md5 = new DigestPassThrough('md5', size);
    const tmp = await this.writeTemp(body, md5);
    try {
      const { digest, size: got } = md5.result();
      if (got !== size) throw new InvalidStorageRequestError(`expected ${size} bytes, received ${got}`);
      if (stillOpen && !(await stillOpen())) throw new ArtifactNotFoundError(`upload to ${stagingKey} is no longer open (finalized, expired or never created)`, stagingKey);
      await this.renameInto(tmp, dest);
      return { etag: digest };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Writes one part of a multipart upload (exactly `size` bytes); returns its MD5 hex ETag. */
  async receivePart(
    stagingKey: string,
    uploadId: string,
    partNumber: number,
    size: number,
    body: AsyncIterable<Uint8Array> | Readable,
  ): Promise<{ etag: string }> {
    const manifest = await this.readManifest(uploadId, stagingKey);
    const planned = planParts(manifest.size, manifest.partSize)[partNumber - 1];
    if (!planned || planned.size !== size) {
      throw new InvalidStorageRequestError(`upload ${uploadId} has no part ${partNumber} of ${size} bytes`);
    }
    const md5 = new DigestPassThrough('md5', size);
    const tmp = await this.writeTemp(body, md5);
    try {
      const { digest, size: got } = md5.result();
      if (got !== size) throw new InvalidStorageRequestError(`expected ${size} bytes for part ${partNumber}, received ${got}`);
      // Completed or aborted while the part was arriving: its directory is gone and stays gone.
      await this.readManifest(uploadId, stagingKey);
      await rename(tmp, path.join(this.uploadDir(stagingKey, uploadId), `${partNumber}.part`));
      return { etag: digest };
    } catch (err) {
      await rm(tmp, { force: true });
      if (isNoEnt(err)) throw new ArtifactNotFoundError(`multipart upload ${uploadId} not found for staging key ${stagingKey}`, uploadId, { cause: err });
      throw err;
    }
  }

  async completeMultipart(stagingKey: string, uploadId: string, parts: ReadonlyArray<CompletedPart | string>): Promise<void> {
    const manifest = await this.readManifest(uploadId, stagingKey);
    const list = normalizeParts(parts).sort((a, b) => a.partNumber - b.partNumber);
    const plan = planParts(manifest.size, manifest.partSize);
    if (list.length !== plan.length || list.some((p, i) => p.partNumber !== i + 1)) {
      throw new ArtifactIntegrityError(
        `upload ${uploadId} needs parts 1-${plan.length} exactly once, got ${list.map((p) => p.partNumber).join(', ') || 'none'}`,
      );
    }
    const dir = this.uploadDir(stagingKey, uploadId);
    for (const p of plan) {
      const s = await stat(path.join(dir, `${p.partNumber}.part`)).catch((err) => {
        if (isNoEnt(err)) throw new ArtifactIntegrityError(`part ${p.partNumber} of upload ${uploadId} was never uploaded`);
        throw err;
      });
      if (s.size !== p.size) throw new ArtifactIntegrityError(`part ${p.partNumber} of upload ${uploadId} has ${s.size} bytes, expected ${p.size}`);
    }
    // Join the parts, checking each against the ETag the client reported for it.
    const tmp = await this.tmpPath();
    const out = createWriteStream(tmp, { flags: 'wx' });
    try {
      for (const p of list) {
        const md5 = createHash('md5');
        for await (const chunk of createReadStream(path.join(dir, `${p.partNumber}.part`))) {
          md5.update(chunk);
          if (!out.write(chunk)) await once(out, 'drain');
        }
        const etag = md5.digest('hex');
        if (etag !== p.etag) throw new ArtifactIntegrityError(`part ${p.partNumber} of upload ${uploadId} has ETag ${etag}, not ${p.etag}`);
      }
      out.end();
      await once(out, 'finish');
      const fh = await open(tmp, 'r+');
      await fh.sync().finally(() => fh.close());
    } catch (err) {
      out.destroy();
      await rm(tmp, { force: true });
      throw err;
    }
    await this.renameInto(tmp, this.stagingPath(stagingKey));
    await rm(dir, { recursive: true, force: true });
  }

  async abortMultipart(stagingKey: string, uploadId: string): Promise<void> {
    assertStagingKey(stagingKey);
    if (!UPLOAD_ID_RE.test(uploadId)) return;
    await rm(this.uploadDir(stagingKey, uploadId), { recursive: true, force: true });
  }

  /** Opens the staged file; its stat and its bytes come from the same inode. */
  private async openStaging(stagingKey: string) {
    try {
      const fh = await open(this.stagingPath(stagingKey), 'r');
      const s = await fh.stat();
      return { fh, size: s.size, etag: `${s.size}-${s.mtimeMs}-${s.ino}` };
    } catch (err) {
      if (isNoEnt(err)) throw new ArtifactNotFoundError(`staging object ${stagingKey} not found`, stagingKey, { cause: err });
      throw err;
    }
  }

  async hashStaging(stagingKey: string): Promise<StagingDigest> {
    const { fh, etag } = await this.openStaging(stagingKey);
    const digest = await hashStream(fh.createReadStream());
    return { ...digest, etag };
  }

  async getStaging(stagingKey: string): Promise<Readable> {
    const { fh } = await this.openStaging(stagingKey);
    return fh.createReadStream();
  }

  async promoteStaging(stagingKey: string, sha256: string, expected: { size?: number; etag?: string } = {}): Promise<PutResult> {
    const hash = normalizeSha256(sha256);
    const { fh, size, etag } = await this.openStaging(stagingKey);
    await fh.close();
    if ((expected.size !== undefined && size !== expected.size) || (expected.etag !== undefined && etag !== expected.etag)) {
      throw new ArtifactIntegrityError(`staging object ${stagingKey} changed after it was hashed; hash it again`);
    }
    return this.moveToFinal(this.stagingPath(stagingKey), hash, size);
  }

  /** Removes the staged file and any unfinished multipart uploads to the same key. */
  async deleteStaging(stagingKey: string): Promise<void> {
    await rm(this.stagingPath(stagingKey), { force: true });
    await rm(this.uploadsOf(stagingKey), { recursive: true, force: true });
  }

  /**
   * Deletes leftovers of interrupted writes under tmp/: files of a process that is gone (killed
   * mid-upload, crashed), at once, and files nobody has written to for `idleMs` (default 1 h; a
   * write in progress keeps its file's mtime fresh). Called at start-up and periodically by the
   * API. Returns how many were removed.
   */
  async cleanTemp(idleMs = 3600 * 1000): Promise<number> {
    const dir = path.join(this.rootDir, 'tmp');
    const names = await readdir(dir).catch((err) => (isNoEnt(err) ? [] : Promise.reject(err)));
    let removed = 0;
    for (const name of names) {
      const file = path.join(dir, name);
      const s = await stat(file).catch(() => undefined);
      if (!s) continue;
      if (tempOwnerAlive(name) === false || Date.now() - s.mtimeMs > idleMs) {
        await rm(file, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  /**
   * Staged uploads and unfinished multipart uploads, with when they were last written; the
   * upload sweep removes those no open upload owns.
   */
  async *listStaging(): AsyncIterable<{ stagingKey: string; modifiedAt: Date; uploadId?: string }> {
    const staging = path.join(this.rootDir, 'staging');
    const files = await readdir(staging, { recursive: true, withFileTypes: true }).catch((err) => (isNoEnt(err) ? [] : Promise.reject(err)));
    for (const f of files) {
      if (!f.isFile()) continue;
      const file = path.join(f.parentPath, f.name);
      const s = await stat(file).catch(() => undefined);
      if (s) yield { stagingKey: path.relative(staging, file).split(path.sep).join('/'), modifiedAt: s.mtime };
    }
    const multipart = path.join(this.rootDir, 'multipart');
    for (const keyHash of await readdir(multipart).catch((err) => (isNoEnt(err) ? [] : Promise.reject(err)))) {
      for (const uploadId of await readdir(path.join(multipart, keyHash)).catch(() => [] as string[])) {
        const manifestFile = path.join(multipart, keyHash, uploadId, 'manifest.json');
        const [text, s] = await Promise.all([readFile(manifestFile, 'utf8').catch(() => undefined), stat(path.join(multipart, keyHash, uploadId)).catch(() => undefined)]);
        if (!s) continue;
        let stagingKey: string | undefined;
        try {
          stagingKey = text ? (JSON.parse(text) as MultipartManifest).stagingKey : undefined;
        } catch {
          stagingKey = undefined;
        }
        if (stagingKey) yield { stagingKey, modifiedAt: s.mtime, uploadId };
        else if (Date.now() - s.mtimeMs > 3600 * 1000) await rm(path.join(multipart, keyHash, uploadId), { recursive: true, force: true });
      }
    }
  }

  async presignDownload(sha256: string, filename?: string, expiresInSeconds?: number): Promise<string> {
    const base = this.requireBaseUrl();
    const { sha256: hash } = await this.stat(sha256);
    const target = artifactKey(hash);
    const expires = Math.floor(Date.now() / 1000) + (expiresInSeconds ?? this.downloadTtl);
    return `${base}/artifacts/${target}?${signedQuery(this.signingSecret, { method: 'GET', target, filename, expires })}`;
  }
}
