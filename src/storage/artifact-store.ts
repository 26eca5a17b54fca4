/**
 * Where artifact bytes live (arrays, ONNX models, result maps): content-addressed by sha256 and
 * streamed both ways, so neither the API nor a worker ever holds a whole object in memory.
 *
 * Two ways in:
 * - server side: `putStream` hashes while writing to a temporary key, then moves the bytes to
 *   `sha256/ab/<hash>` (a no-op when that content already exists);
 * - direct client uploads: `createUpload` hands out presigned URL(s) for a staging key, the client
 *   PUTs the bytes (in parts above the part size), `completeMultipart` joins parts,
 *   `hashStaging` streams the staged bytes through sha256, and after the caller's checks
 *   `promoteStaging` moves them under their hash.
 *
 * Adapters: S3ArtifactStore (MinIO / any S3, production), FsArtifactStore (a data directory,
 * embedded profile). Missing objects raise ArtifactNotFoundError; see errors.ts for the rest.
 */
import type { Readable } from 'node:stream';
import { normalizeSha256 } from './keys';

export interface ArtifactStat {
  sha256: string;
  /** Bytes. */
  size: number;
}

export interface PutResult extends ArtifactStat {
  /** False when identical content was already stored (dedup): nothing new was written. */
  created: boolean;
}

export interface PutOptions {
  /** Refuse (ArtifactIntegrityError, nothing stored) unless the bytes hash to this. */
  expectedSha256?: string;
  /** Refuse unless exactly this many bytes arrive. */
  expectedSize?: number;
}

export interface StagingDigest extends ArtifactStat {
  /**
   * Opaque version of the staged object when it was hashed (S3 ETag; size/mtime/inode on disk).
   * Pass it to promoteStaging to refuse bytes replaced between hashing and promotion.
   */
  etag: string;
}

/** One presigned PUT of the whole body. */
export interface SingleUploadTarget {
  kind: 'single';
  url: string;
  method: 'PUT';
  /** Headers the client must send with the PUT (currently none for either adapter). */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface UploadPartTarget {
  /** 1-based. */
  partNumber: number;
  url: string;
  /** Byte range of the file this part carries: [offset, offset + size). */
  offset: number;
  size: number;
}

/**
 * A multipart upload: PUT bytes [offset, offset + size) of the file to each part URL (any order,
 * in parallel if wanted), keep each response's ETag header, then completeMultipart with them.
 */
export interface MultipartUploadTarget {
  kind: 'multipart';
  multipart: { uploadId: string; partSize: number; parts: UploadPartTarget[] };
  expiresAt: Date;
}

export type UploadTarget = SingleUploadTarget | MultipartUploadTarget;

export interface CompletedPart {
  partNumber: number;
  /** The ETag response header of that part's PUT (quotes optional). */
  etag: string;
}

export interface CreateUploadOptions {
  /** Lifetime of the URLs in seconds (default: the store's uploadUrlTtlSeconds, 24 h). */
  expiresInSeconds?: number;
}

export interface ArtifactStore {
  /** Stores a stream under its sha256. Memory use is bounded (S3: one part buffer, 64 MiB by default). */
  putStream(body: Readable | Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult>;

  /** The whole object. Throws ArtifactNotFoundError before returning when it does not exist. */
  get(sha256: string): Promise<Readable>;

  /**
   * Bytes [offset, offset + length) (to the end when length is omitted; clipped at the end).
   * Throws InvalidStorageRequestError when offset is at or past the end of a non-empty range.
   */
  getRange(sha256: string, offset: number, length?: number): Promise<Readable>;

  /** Size of a stored artifact; throws ArtifactNotFoundError. */
  stat(sha256: string): Promise<ArtifactStat>;

  exists(sha256: string): Promise<boolean>;

  /** Removes an artifact; true if it existed. */
  delete(sha256: string): Promise<boolean>;

  /**
   * Presigned upload target(s) for `size` bytes under a staging key: one PUT up to the part size
   * (default 64 MiB), parts above it.
   */
  createUpload(stagingKey: string, size: number, options?: CreateUploadOptions): Promise<UploadTarget>;

  /** Joins uploaded parts into the staging object; a bare string at index i is part i + 1's ETag. */
  completeMultipart(stagingKey: string, uploadId: string, parts: ReadonlyArray<CompletedPart | string>): Promise<void>;

  /** Discards an unfinished multipart upload and its parts. */
  abortMultipart(stagingKey: string, uploadId: string): Promise<void>;

  /** Streams the staged object through sha256. Throws ArtifactNotFoundError. */
  hashStaging(stagingKey: string): Promise<StagingDigest>;

  /** The staged bytes (e.g. to probe an .npy header). Throws ArtifactNotFoundError. */
  getStaging(stagingKey: string): Promise<Readable>;

  /**
   * Moves a staged object to `sha256/ab/<sha256>` and removes the staging object. `sha256` must
   * come from hashStaging; pass `expected` (its result) to refuse bytes changed since.
   * Idempotent for content that already exists.
   */
  promoteStaging(stagingKey: string, sha256: string, expected?: { size?: number; etag?: string }): Promise<PutResult>;

  /** Removes a staging object (no error if absent). */
  deleteStaging(stagingKey: string): Promise<void>;

  /**
   * Staged objects and unfinished multipart uploads (with their upload id), with when they were
   * last written, so a sweep can remove those no open upload owns. Optional.
   */
  listStaging?(): AsyncIterable<{ stagingKey: string; modifiedAt: Date; uploadId?: string }>;

  /** Removes leftovers of interrupted writes of a store that keeps temp files; returns how many. Optional. */
  cleanTemp?(): Promise<number>;

  /**
   * A URL anyone holding it can GET the artifact from until it expires, with
   * `Content-Disposition: attachment; filename=...` when a filename is given.
   * Throws ArtifactNotFoundError.
   */
  presignDownload(sha256: string, filename?: string, expiresInSeconds?: number): Promise<string>;
}

export const MiB = 1024 * 1024;
export const DEFAULT_PART_SIZE = 64 * MiB;
export const DEFAULT_UPLOAD_TTL_SECONDS = 24 * 3600;
export const DEFAULT_DOWNLOAD_TTL_SECONDS = 3600;

/** Splits `size` bytes into parts of `partSize` (the last one shorter): [offset, size] pairs. */
export function planParts(size: number, partSize: number): Array<{ partNumber: number; offset: number; size: number }> {
  const parts = [];
  for (let offset = 0, n = 1; offset < size; offset += partSize, n++) {
    parts.push({ partNumber: n, offset, size: Math.min(partSize, size - offset) });
  }
  return parts;
}

/** Normalises completeMultipart's parts argument; strips ETag quotes. */
export function normalizeParts(parts: ReadonlyArray<CompletedPart | string>): CompletedPart[] {
  return parts.map((p, i) =>
    typeof p === 'string' ? { partNumber: i + 1, etag: p.replace(/"/g, '') } : { partNumber: p.partNumber, etag: p.etag.replace(/"/g, '') },
  );
}

/** Why a put does not match what the caller promised, or undefined when it does. */
export function checkExpected(options: PutOptions, sha256: string, size: number): string | undefined {
  if (options.expectedSize !== undefined && options.expectedSize !== size) {
    return `expected ${options.expectedSize} bytes, received ${size}`;
  }
  if (options.expectedSha256 !== undefined && normalizeSha256(options.expectedSha256) !== sha256) {
    return `expected sha256 ${options.expectedSha256.toLowerCase()}, received bytes hashing to ${sha256}`;
  }
  return undefined;
}
