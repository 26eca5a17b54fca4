/**
 * In-process S3 emulator for tests of the S3 artifact store (production runs MinIO).
 *
 * @20minutes/s3rver 4 (the last release that supports Node 20) speaks enough S3 for the minio client (path-style addressing, SigV4
 * headers and presigned query signatures, multipart uploads, copy, ranges). Known gaps, measured:
 * - `GET /<bucket>?uploads` (ListMultipartUploads, which minio's putObject calls before a
 *   multipart upload) answers 501: a middleware below answers it with an empty list.
 * - AbortMultipartUpload (`DELETE ...?uploadId=`) answers 405 MethodNotAllowed.
 * - Requests without any signature are accepted (no anonymous-access check), so tests can show
 *   that a tampered signature is refused, not that a missing one is.
 * - A range ending at byte 0 (`bytes=0-0`) returns the whole object (`end || Infinity`).
 * - Part sizes are not checked (S3 wants >= 5 MiB for all but the last part), nor are the ETags
 *   listed in CompleteMultipartUpload.
 * - Presigned URLs whose query values contain ! ' ( ) * or non-ASCII characters (e.g. a
 *   response-content-disposition for "it's (1).npy" or "Größe.npy") fail with
 *   SignatureDoesNotMatch: the emulator canonicalises with encodeURIComponent, while the minio
 *   client and real S3/MinIO use RFC 3986 encoding.
 * - Copy preconditions (x-amz-copy-source-if-match) are ignored.
 * Presigned single PUTs, presigned multipart part PUTs (partNumber + uploadId in the signed
 * query), CompleteMultipartUpload, UploadPartCopy and ranged GETs work.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

// s3rver ships no types; only the members used here are declared.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('@20minutes/s3rver') as new (options: Record<string, unknown>) => {
  middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => unknown>;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
};

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, unknown>;
  status: number;
  type: string;
  body: unknown;
}

export interface S3Emulator {
  endPoint: string;
  port: number;
  useSSL: false;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  stop(): Promise<void>;
}

/** The emulator's fixed credentials (its built-in dummy account). */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export async function startS3Emulator(options: { bucket?: string } = {}): Promise<S3Emulator> {
  const bucket = options.bucket ?? 'brainalign-test';
  const directory = await mkdtemp(path.join(os.tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0, // the OS picks a free port
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  // Must run before s3rver's router, which answers 501 for ?uploads: Koa composes
  // `middleware` when the server starts listening, so prepending here is enough.
  server.middleware.unshift(async (ctx, next) => {
    const bucketPath = /^\/([^/]+)\/?$/.exec(ctx.path);
    if (ctx.method === 'GET' && bucketPath && 'uploads' in ctx.query) {
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${bucketPath[1]}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
        '<NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>' +
        '<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>' +
        '</ListMultipartUploadsResult>';
      return;
    }
    await next();
  });
  const address = await server.run();
  return {
    endPoint: '127.0.0.1',
    port: address.port,
    useSSL: false,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: 'us-east-1',
    bucket,
    url: `http://127.0.0.1:${address.port}`,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * The environment variables that point a BrainAlign process at this emulator. The emulator knows
 * only its fixed S3RVER keys, which production refuses as weak, so they are accepted explicitly.
 */
export function s3Env(s3: Pick<S3Emulator, 'endPoint' | 'port' | 'accessKey' | 'secretKey' | 'bucket'>): Record<string, string> {
  return {
    ALLOW_WEAK_CREDENTIALS: 'true',
    ARTIFACT_STORE: 's3',
    S3_ENDPOINT: s3.endPoint,
    S3_PORT: String(s3.port),
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    S3_BUCKET: s3.bucket,
  };
}
