// Imports a float32 response array (default 10,000 x 20,000 = 800 MB) through the production
// path: client -> presigned multipart upload to S3 -> finalize (the API re-hashes by streaming)
// -> IMPORT_RESPONSES on a worker process over BullMQ. Reports the peak RSS of the API and the
// worker, and the time against copying the same file into the same S3 with the minio client.
//
//   npm run bench -- import [--small] [--stimuli 10000] [--voxels 20000]
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import * as Minio from 'minio';
import { newTokenSecret } from '../src/auth/tokens';
import { ensureDatabase, dropDatabase } from '../src/db/migrate';
import { formatNpyHeader } from '../src/storage';
import { freePort } from '../tests/helpers/ports';
import { s3Env } from '../tests/helpers/s3-emulator';
import { peakRssMb, startTs, stop, waitForLine } from './support/processes';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

async function writeArray(file: string, rows: number, cols: number): Promise<string> {
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  const put = async (buf: Buffer) => {
    hash.update(buf);
    if (!out.write(buf)) await once(out, 'drain');
  };
  await put(formatNpyHeader({ dtype: '<f4', shape: [rows, cols] }));
  const row = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) row[c] = Math.sin(r * 0.37 + c * 0.11) + ((r * 7919 + c * 104729) % 1000) / 1000;
    await put(Buffer.from(row.buffer.slice(0)));
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

export async function run(args: string[] = []): Promise<Record<string, unknown>> {
  const small = args.includes('--small');
  const rows = arg(args, 'stimuli', small ? 1000 : 10_000);
  const cols = arg(args, 'voxels', small ? 2000 : 20_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ba-bench-import-'));
  const file = path.join(dir, 'betas.npy');
  console.log(`writing a ${rows} x ${cols} float32 array ...`);
  const sha256 = await writeArray(file, rows, cols);
  const size = statSync(file).size;

  const pgServer = 'postgresql://postgres@127.0.0.1:5432/postgres';
  const dbName = `ba_bench_${Date.now().toString(36)}`;
  const port = await freePort();
  await ensureDatabase(pgServer, dbName);
  const children: ReturnType<typeof startTs>[] = [];
  const results: Record<string, unknown> = {};
  try {
    const s3Proc = startTs('bench/support/s3-emulator-process.ts', {});
    children.push(s3Proc);
    const s3 = JSON.parse(await waitForLine(s3Proc, (l) => l.startsWith('{')));
    const operatorToken = newTokenSecret().token;
    const env = {
      BRAINALIGN_PROFILE: 'production',
      DATABASE_URL: pgServer.replace(/postgres$/, dbName),
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: dbName,
      ...s3Env(s3),
      UPLOAD_SECRET: 'bench-upload-secret-0123456789',
      SITE_KEY_SECRET: 'bench-site-key-secret-0123456789abcdef',
      // The operator token this bench acts with.
      BRAINALIGN_ADMIN_TOKEN: operatorToken,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const apiProc = startTs('src/main.ts', env);
    children.push(apiProc);
    await waitForLine(apiProc, (l) => l.includes('GraphQL:'));
    const workerProc = startTs('src/worker.ts', env);
    children.push(workerProc);
    const url = `http://127.0.0.1:${port}/graphql`;
    const gql = async (query: string, variables?: object) => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${operatorToken}` };
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body: any = await res.json();
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const { createDataset: ds } = await gql(`mutation { createDataset(input: { name: "bench" }) { id } }`);
    const { createSubject: subj } = await gql(`mutation($d: ID!) { createSubject(input: { datasetId: $d, name: "s", nVoxels: ${cols} }) { id } }`, { d: ds.id });
    const stimuli = Array.from({ length: rows }, (_, i) => ({ externalId: `img-${i}` }));
    const { createStimulusSet: set } = await gql(`mutation($d: ID!, $s: [StimulusInput!]!) { createStimulusSet(input: { datasetId: $d, name: "s", stimuli: $s }) { id } }`, { d: ds.id, s: stimuli });

    // Reference: the same file copied into the same S3 by the minio client alone.
    const client = new Minio.Client({ endPoint: s3.endPoint, port: s3.port, useSSL: false, accessKey: s3.accessKey, secretKey: s3.secretKey });
    let t = performance.now();
    await client.fPutObject(s3.bucket, 'reference/betas.npy', file);
    const copySeconds = (performance.now() - t) / 1000;

    t = performance.now();
    const { createArtifactUpload: up } = await gql(
      `mutation($i: CreateArtifactUploadInput!) { createArtifactUpload(input: $i) { id url parts { partNumber url offset size } } }`,
      { i: { filename: 'betas.npy', size: String(size), sha256 } },
    );
    const handle = await open(file);
    const parts: { partNumber: number; etag: string }[] = [];
    for (const p of up.parts ?? [{ partNumber: 1, url: up.url, offset: 0, size }]) {
      const body = createReadStream(file, { start: Number(p.offset), end: Number(p.offset) + Number(p.size) - 1 });
      const res = await fetch(p.url, { method: 'PUT', body: body as any, duplex: 'half', headers: { 'content-length': String(p.size) } } as RequestInit);
      if (!res.ok) throw new Error(`part ${p.partNumber}: ${res.status}`);
      parts.push({ partNumber: p.partNumber, etag: res.headers.get('etag') ?? '' });
    }
    await handle.close();
    const uploadSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const { finalizeArtifactUpload: artifact } = await gql(`mutation($i: FinalizeArtifactUploadInput!) { finalizeArtifactUpload(input: $i) { id } }`, {
      i: { uploadId: up.id, parts: up.parts ? parts : null },
    });
    const finalizeSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const { importResponseSet } = await gql(
      `mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } } }`,
      { i: { subjectId: subj.id, stimulusSetId: set.id, artifactId: artifact.id } },
    );
    for (;;) {
      const { run } = await gql(`query($id: ID!) { run(id: $id) { status progressMessage error { message } } }`, { id: importResponseSet.run.id });
      if (run.status === 'FAILED') throw new Error(run.error.message);
      if (run.status === 'SUCCEEDED') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const importSeconds = (performance.now() - t) / 1000;
    const total = uploadSeconds + finalizeSeconds + importSeconds;
    Object.assign(results, {
      bench: 'import',
      array_mb: Math.round(size / 2 ** 20),
      upload_seconds: +uploadSeconds.toFixed(2),
      finalize_seconds: +finalizeSeconds.toFixed(2),
      import_seconds: +importSeconds.toFixed(2),
      s3_copy_seconds: +copySeconds.toFixed(2),
      ratio_upload_vs_copy: +(uploadSeconds / copySeconds).toFixed(2),
      ratio_total_vs_copy: +(total / copySeconds).toFixed(2),
      api_peak_rss_mb: peakRssMb(apiProc.pid!),
      worker_peak_rss_mb: peakRssMb(workerProc.pid!),
    });
  } finally {
    for (const child of children.reverse()) await stop(child);
    await dropDatabase(pgServer, dbName).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** Entry for `npm run bench -- import [--small] [--stimuli N] [--voxels N]`; the last line is JSON. */
export async function main(args: string[]): Promise<void> {
  console.log(JSON.stringify(await run(args)));
}
