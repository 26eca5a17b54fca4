/**
 * HMAC-signed, expiring URLs for the filesystem store's own HTTP endpoints (the embedded
 * profile's stand-in for S3 presigned URLs). The signature covers everything the handler acts
 * on: method, target key, declared size, upload id, part number, download filename, expiry.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedFields {
  method: 'PUT' | 'GET';
  /** 'staging/<key>' or 'sha256/<hash>'. */
  target: string;
  /** Exact body size in bytes a PUT must carry. */
  size?: number;
  uploadId?: string;
  partNumber?: number;
  filename?: string;
  /** Unix time in seconds after which the URL is refused. */
  expires: number;
}

function canonical(f: SignedFields): string {
  return [f.method, f.target, f.size ?? '', f.uploadId ?? '', f.partNumber ?? '', f.filename ?? '', f.expires].join('\n');
}

export function sign(secret: Buffer, fields: SignedFields): string {
  return createHmac('sha256', secret).update(canonical(fields)).digest('base64url');
}

export function verify(secret: Buffer, fields: SignedFields, signature: string): boolean {
  const want = Buffer.from(sign(secret, fields));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Query string for a signed URL: the fields that are set, then `signature`. */
export function signedQuery(secret: Buffer, fields: SignedFields): string {
  const q = new URLSearchParams();
  if (fields.size !== undefined) q.set('size', String(fields.size));
  if (fields.uploadId !== undefined) q.set('uploadId', fields.uploadId);
  if (fields.partNumber !== undefined) q.set('partNumber', String(fields.partNumber));
  if (fields.filename !== undefined) q.set('filename', fields.filename);
  q.set('expires', String(fields.expires));
  q.set('signature', sign(secret, fields));
  return q.toString();
}
