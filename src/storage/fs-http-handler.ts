/**
 * The HTTP endpoints behind FsArtifactStore's signed URLs, as a plain Node handler the API
 * server mounts in front of GraphQL:
 *
 *   PUT  {prefix}staging/<key>?size&expires&signature                       single upload
 *   PUT  {prefix}staging/<key>?size&uploadId&partNumber&expires&signature   one part
 *   GET  {prefix}sha256/<2 hex>/<64 hex>?[filename]&expires&signature       download (Range ok)
 *   OPTIONS on any of them                                                   CORS preflight
 *
 * where {prefix} is the path of publicBaseUrl + '/artifacts/'. The handler resolves to false
 * for any other path (the caller then handles the request), true once it has answered. Bodies
 * stream to disk; the signature fixes the exact size, so a client cannot send more than it was
 * allowed. Errors are JSON: {"error": {"code", "message"}}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ArtifactNotFoundError, StorageError } from './errors';
import type { FsArtifactStore } from './fs-artifact-store';
import { BodyTooLargeError } from './hashing';
import { contentDisposition } from './keys';
import { verify, type SignedFields } from './url-signing';

export type NodeHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, PUT, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type, Content-Length, Range',
  'Access-Control-Expose-Headers': 'ETag, Content-Length, Content-Range, Content-Disposition',
  'Access-Control-Max-Age': '3600',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message };
  if (err instanceof BodyTooLargeError) return { status: 413, code: 'BAD_USER_INPUT', message: err.message };
  if (err instanceof StorageError) {
    const status = { NOT_FOUND: 404, BAD_USER_INPUT: 400, CONFLICT: 409, INTERNAL: 500 }[err.code];
    return { status, code: err.code, message: err.message };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CORS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function int(q: URLSearchParams, name: string, required: boolean): number | undefined {
  const v = q.get(name);
  if (v === null) {
    if (required) throw new HttpError(403, 'FORBIDDEN', `missing ${name} in signed URL`);
    return undefined;
  }
  if (!/^\d{1,16}$/.test(v)) throw new HttpError(403, 'FORBIDDEN', `malformed ${name} in signed URL`);
  return Number(v);
}

/** Checks expiry and signature of a request against the fields it claims. */
function authorize(store: FsArtifactStore, q: URLSearchParams, fields: Omit<SignedFields, 'expires'>): void {
  const expires = int(q, 'expires', true)!;
  const signature = q.get('signature') ?? '';
  if (!verify(store.signingSecret, { ...fields, expires }, signature)) {
    throw new HttpError(403, 'FORBIDDEN', 'invalid signature for this URL');
  }
  if (expires * 1000 < Date.now()) throw new HttpError(403, 'FORBIDDEN', `URL expired at ${new Date(expires * 1000).toISOString()}`);
}

export interface FsArtifactHttpOptions {
  /**
   * Whether an upload to this staging key is still open (created, not expired, not finalised).
   * Asked before a body is read and again before it is kept, so a PUT to a finalised or unknown
   * upload answers 404 and writes nothing. Without it every validly signed URL is accepted.
   */
  uploadOpen?: (stagingKey: string) => Promise<boolean>;
}

/** A path segment's percent-encoding decoded; malformed escapes are the client's mistake (400). */
function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, 'BAD_USER_INPUT', `malformed percent-encoding in the URL path ${JSON.stringify(text.slice(0, 200))}`);
  }
}

/** Creates the handler for a store; mount it before the GraphQL handler. */
export function createFsArtifactHttpHandler(store: FsArtifactStore, options: FsArtifactHttpOptions = {}): NodeHttpHandler {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(store.routePrefix)) return false;
    const rest = url.pathname.slice(store.routePrefix.length);
    const q = url.searchParams;
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, CORS);
        res.end();
        return true;
      }
      if (rest.startsWith('staging/')) {
        if (req.method !== 'PUT') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on upload URLs; use PUT`);
        await handleUpload(store, decodePath(rest.slice('staging/'.length)), q, req, res, options.uploadOpen);
        return true;
      }
      const m = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(rest);
      if (m && m[2].startsWith(m[1])) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on download URLs; use GET`);
        }
        await handleDownload(store, m[2], q, req, res);
        return true;
      }
      throw new HttpError(404, 'NOT_FOUND', `no artifact endpoint at ${url.pathname}`);
    } catch (err) {
      const { status, code, message } = statusOf(err);
      // The client may still be sending a body we will not read: close the connection after replying.
      if (!req.readableEnded) res.setHeader('Connection', 'close');
      sendJson(res, status, { error: { code, message } });
      return true;
    }
  };
}

async function handleUpload(
  store: FsArtifactStore,
  stagingKey: string,
  q: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  uploadOpen?: (stagingKey: string) => Promise<boolean>,
) {
  const size = int(q, 'size', true)!;
  const uploadId = q.get('uploadId') ?? undefined;
  const partNumber = int(q, 'partNumber', false);
  authorize(store, q, { method: 'PUT', target: `staging/${stagingKey}`, size, uploadId, partNumber });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) !== size) {
    throw new HttpError(400, 'BAD_USER_INPUT', `this URL takes exactly ${size} bytes, Content-Length says ${declared}`);
  }
  const closed = () => new HttpError(404, 'NOT_FOUND', `no open upload at this URL: it was finalized, expired or never created; start a new upload`);
  if (uploadOpen && !(await uploadOpen(stagingKey))) throw closed();
  let etag: string;
  if (uploadId !== undefined && partNumber !== undefined) {
    ({ etag } = await store.receivePart(stagingKey, uploadId, partNumber, size, req));
  } else {
    try {
      ({ etag } = await store.receiveStaging(stagingKey, size, req, uploadOpen && (() => uploadOpen(stagingKey))));
    } catch (err) {
      if (err instanceof ArtifactNotFoundError) throw closed();
      throw err;
    }
  }
  res.writeHead(200, { ...CORS, ETag: `"${etag}"`, 'Content-Length': 0 });
  res.end();
}

async function handleDownload(store: FsArtifactStore, sha256: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse) {
  const filename = q.get('filename') ?? undefined;
  authorize(store, q, { method: 'GET', target: `sha256/${sha256.slice(0, 2)}/${sha256}`, filename });
  const { size } = await store.stat(sha256);
  const range = parseRange(req.headers.range, size);
  const headers: Record<string, string | number> = {
    ...CORS,
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: `"${sha256}"`,
    'Cache-Control': 'private, max-age=31536000, immutable', // content-addressed: never changes
  };
  if (filename) headers['Content-Disposition'] = contentDisposition(filename);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    res.end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size };
  headers['Content-Length'] = end - start;
  if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || end === start) {
    res.end();
    return;
  }
  try {
    const { stream } = await store.openArtifact(sha256, { start, end });
    await pipeline(stream, res);
  } catch (err) {
    if (err instanceof ArtifactNotFoundError) res.destroy(); // deleted between stat and open
    else res.destroy(err as Error);
  }
}

/**
 * One `bytes=` range as [start, end); undefined for no (or a multi-range, unsupported: the whole
 * body is sent) Range header; 'unsatisfiable' when it lies past the end.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]); // suffix: the last n bytes
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  if (start >= size || end <= start) return 'unsatisfiable';
  return { start, end };
}
