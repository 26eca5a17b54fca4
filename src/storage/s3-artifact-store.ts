/**
 * ArtifactStore on MinIO or any S3-compatible service, through the minio client.
 *
 * putStream does its own multipart upload instead of minio's putObject: for a stream of unknown
 * length minio picks a part size for the 5 TiB maximum (about 528 MiB buffered per part), while
 * here one reusable buffer of `partSize` (64 MiB by default) is all that is held.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import * as Minio from 'minio';
import {
  DEFAULT_DOWNLOAD_TTL_SECONDS,
  DEFAULT_PART_SIZE,
  DEFAULT_UPLOAD_TTL_SECONDS,
  checkExpected,
  MiB,
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
import { ArtifactIntegrityError, ArtifactNotFoundError, InvalidStorageRequestError } from './errors';
import { hashStream, toReadable } from './hashing';
import { artifactKey, assertSize, contentDisposition, normalizeSha256, stagingObjectKey } from './keys';

export interface S3ArtifactStoreOptions {
  client: Minio.Client;
  bucket: string;
  /** Prepended to every key, e.g. 'brainalign/' to share a bucket. Default ''. */
  prefix?: string;
  /** Part size in bytes for uploads (5 MiB - 5 GiB; S3 refuses smaller non-final parts). Default 64 MiB. */
  partSize?: number;
  uploadUrlTtlSeconds?: number;
  downloadUrlTtlSeconds?: number;
  /** Objects above this many bytes are moved with a multipart copy (S3's CopyObject stops at 5 GiB). */
  multipartCopyAbove?: number;
}

export interface S3ConnectionConfig {
  endPoint: string;
  port?: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  region?: string;
  bucket: string;
}

const MAX_PARTS = 10_000;
const MAX_S3_PART = 5 * 1024 * MiB;
const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);

function s3Code(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  readonly partSize: number;
  private readonly client: Minio.Client;
  private readonly prefix: string;
  private readonly uploadTtl: number;
  private readonly downloadTtl: number;
  private readonly multipartCopyAbove: number;

  constructor(options: S3ArtifactStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(this.partSize) || this.partSize < 5 * MiB || this.partSize > MAX_S3_PART) {
      throw new RangeError(`S3 part size must be between 5 MiB and 5 GiB, got ${this.partSize} bytes`);
    }
    this.uploadTtl = options.uploadUrlTtlSeconds ?? DEFAULT_UPLOAD_TTL_SECONDS;
    this.downloadTtl = options.downloadUrlTtlSeconds ?? DEFAULT_DOWNLOAD_TTL_SECONDS;
    this.multipartCopyAbove = options.multipartCopyAbove ?? MAX_S3_PART;
  }

  /**
   * Builds the minio client from connection settings. The region is fixed up front so that
   * presigning needs no bucket-location request; path-style addressing works with MinIO and
   * with emulators on an IP address.
   */
  static fromConfig(config: S3ConnectionConfig, options: Omit<S3ArtifactStoreOptions, 'client' | 'bucket'> = {}): S3ArtifactStore {
    const client = new Minio.Client({
      endPoint: config.endPoint,
      port: config.port,
      useSSL: config.useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region ?? 'us-east-1',
      pathStyle: true,
    });
    return new S3ArtifactStore({ ...options, client, bucket: config.bucket });
  }

  private key(sha256: string) {
    return this.prefix + artifactKey(sha256);
  }

  private staging(stagingKey: string) {
    return this.prefix + stagingObjectKey(stagingKey);
  }

  /** Maps S3 "no such key/upload" errors to ArtifactNotFoundError; rethrows others. */
  private notFound(err: unknown, what: string, id: string): never {
    if (NOT_FOUND_CODES.has(s3Code(err) ?? '')) throw new ArtifactNotFoundError(`${what} not found`, id, { cause: err });
    throw err;
  }

  private async statKey(key: string, what: string, id: string): Promise<{ size: number; etag: string }> {
    try {
      const s = await this.client.statObject(this.bucket, key);
      return { size: s.size, etag: s.etag };
    } catch (err) {
      return this.notFound(err, what, id);
    }
  }

  async putStream(body: Readable | Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const tmpKey = `${this.prefix}tmp/${randomUUID()}`;
    const hash = createHash('sha256');
    let size = 0;
    let uploadId: string | undefined;
    const parts: Array<{ part: number; etag: string }> = [];
    // One part buffer, reused: after uploadPart resolves its bytes have been sent.
    let part: Buffer | undefined;
    let fill = 0;
    const uploadPart = async (buf: Buffer) => {
      uploadId ??= await this.client.initiateNewMultipartUpload(this.bucket, tmpKey, {});
      const r = await this.client.uploadPart(
        { bucketName: this.bucket, objectName: tmpKey, uploadID: uploadId, partNumber: parts.length + 1, headers: { 'Content-Length': buf.length } },
        buf,
      );
      parts.push({ part: parts.length + 1, etag: r.etag });
    };
    try {
      for await (const chunk of toReadable(body)) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        hash.update(buf);
        size += buf.length;
        for (let off = 0; off < buf.length; ) {
          part ??= Buffer.allocUnsafe(this.partSize);
          const n = Math.min(buf.length - off, this.partSize - fill);
          buf.copy(part, fill, off, off + n);
          fill += n;
          off += n;
          if (fill === this.partSize) {
            await uploadPart(part);
            fill = 0;
          }
        }
      }
      const rest = part ? part.subarray(0, fill) : Buffer.alloc(0);
      if (uploadId === undefined) {
        await this.client.putObject(this.bucket, tmpKey, rest, size);
      } else {
        if (fill > 0) await uploadPart(rest);
        await this.client.completeMultipartUpload(this.bucket, tmpKey, uploadId, parts);
      }
    } catch (err) {
      if (uploadId !== undefined) await this.client.abortMultipartUpload(this.bucket, tmpKey, uploadId).catch(() => undefined);
      await this.client.removeObject(this.bucket, tmpKey).catch(() => undefined);
      throw err;
    }
    const sha256 = hash.digest('hex');
    const problem = checkExpected(options, sha256, size);
    if (problem) {
      await this.client.removeObject(this.bucket, tmpKey).catch(() => undefined);
      throw new ArtifactIntegrityError(problem);
    }
    return this.moveToFinal(tmpKey, sha256, size);
  }

  /** Copies `fromKey` to the artifact key unless that content exists, then deletes `fromKey`. */
  private async moveToFinal(fromKey: string, sha256: string, size: number, matchETag?: string): Promise<PutResult> {
    const finalKey = this.key(sha256);
    let created = false;
    if (!(await this.exists(sha256))) {
      const source = new Minio.CopySourceOptions({ Bucket: this.bucket, Object: fromKey, MatchETag: matchETag ?? '' });
      const dest = new Minio.CopyDestinationOptions({ Bucket: this.bucket, Object: finalKey });
      try {
        if (size > this.multipartCopyAbove) await this.client.composeObject(dest, [source]);
        else await this.client.copyObject(source, dest);
      } catch (err) {
        if (s3Code(err) === 'PreconditionFailed') {
          throw new ArtifactIntegrityError('the staged object changed after it was hashed; hash it again', { cause: err });
        }
        throw err;
      }
      created = true;
    }
    await this.client.removeObject(this.bucket, fromKey);
    return { sha256, size, created };
  }

  async get(sha256: string): Promise<Readable> {
    try {
      return await this.client.getObject(this.bucket, this.key(sha256));
    } catch (err) {
      return this.notFound(err, `artifact ${sha256}`, sha256);
    }
  }

  async getRange(sha256: string, offset: number, length?: number): Promise<Readable> {
    assertSize(offset, 'offset');
    if (length !== undefined) assertSize(length, 'length');
    const key = this.key(sha256);
    if (length === 0) {
      await this.stat(sha256);
      return Readable.from([]);
    }
    let stream: Readable;
    try {
      stream = await this.client.getPartialObject(this.bucket, key, offset, length);
    } catch (err) {
      if (s3Code(err) === 'InvalidRange') {
        throw new InvalidStorageRequestError(`range starting at byte ${offset} is past the end of artifact ${sha256}`, { cause: err });
      }
      return this.notFound(err, `artifact ${sha256}`, sha256);
    }
    // Some S3 emulators ignore a range ending at byte 0; never hand out more than was asked for.
    return length === undefined ? stream : limitBytes(stream, length);
  }

  async stat(sha256: string): Promise<ArtifactStat> {
    const s = await this.statKey(this.key(sha256), `artifact ${sha256}`, sha256);
    return { sha256: normalizeSha256(sha256), size: s.size };
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
    const existed = await this.exists(sha256);
    if (existed) await this.client.removeObject(this.bucket, this.key(sha256));
    return existed;
  }

  async createUpload(stagingKey: string, size: number, options: CreateUploadOptions = {}): Promise<UploadTarget> {
    const key = this.staging(stagingKey);
    assertSize(size);
    const ttl = options.expiresInSeconds ?? this.uploadTtl;
    const expiresAt = new Date(Date.now() + ttl * 1000);
    if (size <= this.partSize) {
      const url = await this.client.presignedPutObject(this.bucket, key, ttl);
      return { kind: 'single', url, method: 'PUT', headers: {}, expiresAt };
    }
    // Grow the part size (in MiB steps) when the file would need more than S3's 10 000 parts.
    const partSize = Math.max(this.partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
    if (partSize > MAX_S3_PART) throw new InvalidStorageRequestError(`${size} bytes exceeds the largest S3 object (10 000 parts of 5 GiB)`);
    const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, {});
    const parts = await Promise.all(
      planParts(size, partSize).map(async (p) => ({
        ...p,
        url: await this.client.presignedUrl('PUT', this.bucket, key, ttl, { partNumber: String(p.partNumber), uploadId }),
      })),
    );
    return { kind: 'multipart', multipart: { uploadId, partSize, parts }, expiresAt };
  }

  async completeMultipart(stagingKey: string, uploadId: string, parts: ReadonlyArray<CompletedPart | string>): Promise<void> {
    const key = this.staging(stagingKey);
    const list = normalizeParts(parts).sort((a, b) => a.partNumber - b.partNumber);
    if (list.length === 0) throw new InvalidStorageRequestError('completing a multipart upload needs at least one part');
    try {
      await this.client.completeMultipartUpload(
        this.bucket,
        key,
        uploadId,
        list.map((p) => ({ part: p.partNumber, etag: p.etag })),
      );
    } catch (err) {
      const code = s3Code(err);
      if (code === 'NoSuchUpload') throw new ArtifactNotFoundError(`multipart upload ${uploadId} not found`, uploadId, { cause: err });
      if (code === 'InvalidPart' || code === 'InvalidPartOrder' || code === 'EntityTooSmall') {
        throw new ArtifactIntegrityError(`cannot complete upload ${uploadId}: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }

  async abortMultipart(stagingKey: string, uploadId: string): Promise<void> {
    try {
      await this.client.abortMultipartUpload(this.bucket, this.staging(stagingKey), uploadId);
    } catch (err) {
      if (s3Code(err) === 'NoSuchUpload') return;
      throw err;
    }
  }

  async hashStaging(stagingKey: string): Promise<StagingDigest> {
    const key = this.staging(stagingKey);
    const { etag } = await this.statKey(key, `staging object ${stagingKey}`, stagingKey);
    const digest = await hashStream(await this.getStaging(stagingKey));
    return { ...digest, etag };
  }

  async getStaging(stagingKey: string): Promise<Readable> {
    try {
      return await this.client.getObject(this.bucket, this.staging(stagingKey));
    } catch (err) {
      return this.notFound(err, `staging object ${stagingKey}`, stagingKey);
    }
  }

  async promoteStaging(stagingKey: string, sha256: string, expected: { size?: number; etag?: string } = {}): Promise<PutResult> {
    const hash = normalizeSha256(sha256);
    const key = this.staging(stagingKey);
    const s = await this.statKey(key, `staging object ${stagingKey}`, stagingKey);
    if ((expected.size !== undefined && s.size !== expected.size) || (expected.etag !== undefined && s.etag !== expected.etag)) {
      throw new ArtifactIntegrityError(`staging object ${stagingKey} changed after it was hashed; hash it again`);
    }
    // The copy is conditional on the ETag just seen, so bytes replaced in between are refused.
    return this.moveToFinal(key, hash, s.size, expected.etag ?? s.etag);
  }

  async deleteStaging(stagingKey: string): Promise<void> {
    await this.client.removeObject(this.bucket, this.staging(stagingKey));
  }

  /**
   * Staged objects and unfinished multipart uploads under staging/. A presigned PUT cannot be
   * revoked, so a late PUT after finalize lands here and the upload sweep removes it.
   */
  async *listStaging(): AsyncIterable<{ stagingKey: string; modifiedAt: Date; uploadId?: string }> {
    const base = this.staging('x').slice(0, -1);
    for await (const item of this.client.listObjectsV2(this.bucket, base, true) as AsyncIterable<Minio.BucketItem>) {
      if (item.name && item.lastModified) yield { stagingKey: item.name.slice(base.length), modifiedAt: item.lastModified };
    }
    for await (const u of this.client.listIncompleteUploads(this.bucket, base, true) as AsyncIterable<Minio.IncompleteUploadedBucketItem & { initiated?: Date }>) {
      if (u.key && u.uploadId) yield { stagingKey: u.key.slice(base.length), modifiedAt: u.initiated ?? new Date(0), uploadId: u.uploadId };
    }
  }

  async presignDownload(sha256: string, filename?: string, expiresInSeconds?: number): Promise<string> {
    await this.stat(sha256);
    const params = filename ? { 'response-content-disposition': contentDisposition(filename) } : undefined;
    return this.client.presignedGetObject(this.bucket, this.key(sha256), expiresInSeconds ?? this.downloadTtl, params);
  }
}

/** At most n bytes of source; stops (and destroys) the source once they have passed. */
function limitBytes(source: Readable, n: number): Readable {
  return Readable.from(
    (async function* () {
      let left = n;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= part.length;
        yield part;
        if (left <= 0) break;
      }
    })(),
  );
}
