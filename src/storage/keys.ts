/**
 * Object keys shared by both adapters (the filesystem store mirrors the S3 layout, so a data
 * directory can be copied into a bucket as is):
 *   sha256/<first 2 hex>/<64 hex>   final, content-addressed artifacts
 *   staging/<staging key>           direct client uploads before verification
 *   tmp/<uuid>                      server-side putStream while its hash is unknown
 */
import { InvalidStorageRequestError } from './errors';

const SHA256_RE = /^[0-9a-f]{64}$/;
const SEGMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Lower-cases and checks a hex sha256; throws InvalidStorageRequestError otherwise. */
export function normalizeSha256(sha256: string): string {
  const s = typeof sha256 === 'string' ? sha256.toLowerCase() : '';
  if (!SHA256_RE.test(s)) throw new InvalidStorageRequestError(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
  return s;
}

/** `sha256/ab/abcdef...`: the 2-character fan-out keeps directories small in the fs store. */
export function artifactKey(sha256: string): string {
  const s = normalizeSha256(sha256);
  return `sha256/${s.slice(0, 2)}/${s}`;
}

/**
 * Checks a caller-chosen staging key: 1-200 characters, '/'-separated segments of letters,
 * digits, '.', '_', '-', each starting with a letter or digit (so no '..', no absolute paths).
 */
export function assertStagingKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200 || !key.split('/').every((s) => SEGMENT_RE.test(s))) {
    throw new InvalidStorageRequestError(
      `invalid staging key ${JSON.stringify(key)}: use 1-200 characters, '/'-separated segments of letters, digits, '.', '_' or '-' starting with a letter or digit`,
    );
  }
  return key;
}

export function stagingObjectKey(key: string): string {
  return `staging/${assertStagingKey(key)}`;
}

/** Checks a declared object size in bytes. */
export function assertSize(size: number, what = 'size'): number {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new InvalidStorageRequestError(`${what} must be a non-negative integer number of bytes, got ${size}`);
  }
  return size;
}

/**
 * `attachment; filename="..."` (RFC 6266), with path and quote characters removed; the
 * `filename*=UTF-8''...` form is added only for non-ASCII names, since some S3 implementations
 * canonicalise its `*` and `'` differently when checking presigned signatures.
 */
export function contentDisposition(filename: string): string {
  const clean = filename.replace(/[\\/"\u0000-\u001f\u007f]/g, '_').slice(0, 255) || 'download';
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_');
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (ascii === clean) return `attachment; filename="${ascii}"`;
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
