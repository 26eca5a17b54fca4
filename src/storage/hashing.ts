/** Streaming digests + byte counts, so objects are hashed as they pass, never buffered whole. */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { InvalidStorageRequestError } from './errors';

export interface Digest {
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
  /** Length in bytes. */
  size: number;
}

/** A body longer than it was declared to be (HTTP 413 at the upload endpoint). */
export class BodyTooLargeError extends InvalidStorageRequestError {
  constructor(readonly limit: number) {
    super(`body exceeds the declared ${limit} bytes`);
  }
}

/**
 * Pass-through that digests and counts the bytes flowing through it, failing with
 * BodyTooLargeError once more than `maxBytes` have passed. Read `result()` after it finishes.
 */
export class DigestPassThrough extends Transform {
  private readonly hash: Hash;
  private bytes = 0;

  constructor(
    algorithm: 'sha256' | 'md5',
    private readonly maxBytes = Infinity,
  ) {
    super();
    this.hash = createHash(algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return cb(new BodyTooLargeError(this.maxBytes));
    this.hash.update(chunk);
    cb(null, chunk);
  }

  /** Hex digest and byte count; call once, after the stream has finished. */
  result(): { digest: string; size: number } {
    return { digest: this.hash.digest('hex'), size: this.bytes };
  }
}

/** Hashes a whole stream (consuming it). */
export async function hashStream(source: AsyncIterable<Uint8Array>): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Accepts what callers have at hand (a stream, a buffer, an async iterable) as a Readable. */
export function toReadable(body: Readable | Uint8Array | AsyncIterable<Uint8Array>): Readable {
  if (body instanceof Readable) return body;
  if (body instanceof Uint8Array) return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
  return Readable.from(body);
}

/** The first `max` bytes of a stream (or all of it, if shorter); stops reading and destroys it. */
export async function readPrefix(stream: Readable, max = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of stream) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= max) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}
