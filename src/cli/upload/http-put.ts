// Sends a stream of known length (PUT) to a presigned URL (Content-Length set, as S3 requires).
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { CliError, EXIT } from '../exit-codes';

export interface PutResult {
  status: number;
  etag: string;
}

export class PutRejected extends CliError {
  constructor(
    readonly status: number,
    body: string,
    url: string,
  ) {
    super(`The artifact store refused the upload to ${new URL(url).pathname} (HTTP ${status}): ${body.slice(0, 300)}`, status === 413 ? EXIT.INPUT : EXIT.SERVER);
  }
}

export function putStream(url: string, headers: Record<string, string>, size: number, body: Readable, onBytes: (n: number) => void, method = 'PUT'): Promise<PutResult> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method, headers: { ...headers, 'content-length': String(size) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(new PutRejected(status, Buffer.concat(chunks).toString('utf8'), url));
        resolve({ status, etag: String(res.headers.etag ?? '') });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      body.destroy();
      reject(new CliError(`Upload to ${u.host} failed: ${err.message}`, EXIT.SERVER, 'NETWORK'));
    });
    body.on('data', (c: Buffer) => onBytes(c.length));
    body.on('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}
