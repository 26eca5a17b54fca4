// Imports an NSD-sized subject from session files through the production path: the bench writes
// (with h5py/nibabel) a brain mask and SESSIONS sessions of TRIALS int16 betas on an 81 x 104 x 83
// grid (NSD's 1.8 mm functional space; HDF5 /betas chunked per voxel across trials, ~1 GB each),
// uploads them to S3 through presigned multipart uploads, creates the subject from the mask and
// runs importResponseSessions on a worker process over BullMQ. The reference is what a lab's
// script does with the same files in the same run: h5py loading, masking, z-scoring and grouping
// (bench/nsd_sessions.py). Reports the worker's peak RSS (and the HDF5 reader process's).
//
//   npm run bench -- nsd-import [--small] [--sessions 3] [--trials 750] [--voxels 40000]
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newTokenSecret } from '../src/auth/tokens';
import { ensureDatabase, dropDatabase } from '../src/db/migrate';
import { freePort } from '../tests/helpers/ports';
import { s3Env } from '../tests/helpers/s3-emulator';
import { peakRssMb, startTs, stop, waitForLine } from './support/processes';
import { runPython } from './support/reference';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Sum of |x| over a float32 .npy streamed from a URL (checked against the reference's). */
async function absSum(url: string): Promise<{ sum: number; first: number[] }> {
  const res = await fetch(url);
  let head: Buffer | null = null;
  let pending = Buffer.alloc(0);
  let sum = 0;
  const first: number[] = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : Buffer.from(chunk);
    if (!head) {
      if (pending.length < 4096) continue;
      // .npy 1.0: magic, version, header length, header (the worker wrote it; 64-byte aligned).
      const dataOffset = 10 + pending.readUInt16LE(8);
      head = pending.subarray(0, dataOffset);
      pending = pending.subarray(dataOffset);
    }
    const n = Math.floor(pending.length / 4);
    const aligned = Buffer.from(pending.subarray(0, 4 * n));
    const values = new Float32Array(aligned.buffer, aligned.byteOffset, n);
    for (let i = 0; i < n; i++) {
      sum += Math.abs(values[i]);
      if (first.length < 3) first.push(values[i]);
    }
    pending = pending.subarray(4 * n);
  }
  return { sum, first };
}

export async function run(args: string[] = []): Promise<Record<string, unknown>> {
  const small = args.includes('--small');
  const sessions = arg(args, 'sessions', 3);
  const trials = arg(args, 'trials', small ? 100 : 750);
  const [X, Y, Z] = small ? [27, 35, 28] : [81, 104, 83];
  const voxels = arg(args, 'voxels', small ? 4000 : 40_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ba-bench-nsd-'));
  console.log(`writing ${sessions} sessions of ${trials} trials of a ${X} x ${Y} x ${Z} int16 volume (h5py) ...`);
  const written = runPython<{ voxels: number; stimuli: number; bytes: number }>([path.join(__dirname, 'nsd_sessions.py'), 'write', dir, String(sessions), String(trials), String(X), String(Y), String(Z), String(voxels)]);

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
      const send = () => fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      // The reference runs synchronously (spawnSync), so a kept-alive socket the API closed
      // meanwhile is only seen as closed when reused: a query is safe to send again.
      const res = await send().catch((err) => {
        if (query.trimStart().startsWith('mutation') || err?.cause?.code !== 'UND_ERR_SOCKET') throw err;
        return send();
      });
      const body: any = await res.json();
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const upload = async (file: string): Promise<string> => {
      const size = statSync(file).size;
      const { createArtifactUpload: up } = await gql(
        `mutation($i: CreateArtifactUploadInput!) { createArtifactUpload(input: $i) { id url parts { partNumber url offset size } } }`,
        { i: { filename: path.basename(file), size: String(size), sha256: await sha256Of(file) } },
      );
      const parts: { partNumber: number; etag: string }[] = [];
      for (const p of up.parts ?? [{ partNumber: 1, url: up.url, offset: 0, size }]) {
        const body = createReadStream(file, { start: Number(p.offset), end: Number(p.offset) + Number(p.size) - 1 });
        const res = await fetch(p.url, { method: 'PUT', body: body as any, duplex: 'half', headers: { 'content-length': String(p.size) } } as RequestInit);
        if (!res.ok) throw new Error(`part ${p.partNumber}: ${res.status}`);
        parts.push({ partNumber: p.partNumber, etag: res.headers.get('etag') ?? '' });
      }
      const { finalizeArtifactUpload } = await gql(`mutation($i: FinalizeArtifactUploadInput!) { finalizeArtifactUpload(input: $i) { id } }`, {
        i: { uploadId: up.id, parts: up.parts ? parts : null },
      });
      return finalizeArtifactUpload.id;
    };

    const { createDataset: ds } = await gql(`mutation { createDataset(input: { name: "bench-nsd" }) { id } }`);
    const { createSubjectFromMask: made } = await gql(`mutation($i: CreateSubjectFromMaskInput!) { createSubjectFromMask(input: $i) { subject { id nVoxels } } }`, {
      i: { datasetId: ds.id, name: 'subj01', maskArtifactId: await upload(path.join(dir, 'mask.nii.gz')) },
    });
    const stimuli = Array.from({ length: written.stimuli }, (_, i) => ({ externalId: `img-${i}` }));
    const { createStimulusSet: set } = await gql(`mutation($d: ID!, $s: [StimulusInput!]!) { createStimulusSet(input: { datasetId: $d, name: "nsd", stimuli: $s }) { id } }`, { d: ds.id, s: stimuli });

    let t = performance.now();
    const files = [];
    for (let s = 1; s <= sessions; s++) {
      const n = String(s).padStart(2, '0');
      files.push({ betasArtifactId: await upload(path.join(dir, `betas_session${n}.hdf5`)), designArtifactId: await upload(path.join(dir, `design_session${n}.json`)) });
    }
    const uploadSeconds = (performance.now() - t) / 1000;

    t = performance.now();
    const { importResponseSessions: queued } = await gql(
      `mutation($i: ImportResponseSessionsInput!) { importResponseSessions(input: $i) { run { id } responseSet { id } nRepeats } }`,
      { i: { subjectId: made.subject.id, stimulusSetId: set.id, sessions: files } },
    );
    let run: any;
    let lastPhase = '';
    for (;;) {
      ({ run } = await gql(`query($id: ID!) { run(id: $id) { status progressMessage provenance error { message } } }`, { id: queued.run.id }));
      if (run.status === 'FAILED') throw new Error(run.error.message);
      if (run.status === 'SUCCEEDED') break;
      // Where the time goes: each new phase of the run with its time since queueing.
      const phase = String(run.progressMessage ?? '').replace(/\d+ of \d+ (x columns|trials|volumes|stimuli)$/, '');
      if (phase !== lastPhase) console.error(`[${((performance.now() - t) / 1000).toFixed(1)} s] ${(lastPhase = phase)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (performance.now() - t) / 1000;
    const workerRss = peakRssMb(workerProc.pid!);

    console.log('reference: h5py loading, masking, z-scoring and grouping the same files ...');
    const reference = runPython<{ seconds: number; peak_rss_mb: number; checksum: number; first: number[][] }>([path.join(__dirname, 'nsd_sessions.py'), 'reference', dir, String(sessions)]);
    const { responseSet } = await gql(`query($id: ID!) { responseSet(id: $id) { artifact { downloadUrl shape } noiseCeilingMedian splitHalfMedian } }`, { id: queued.responseSet.id });
    const check = await absSum(responseSet.artifact.downloadUrl);
    const readerRss = Object.entries(run.provenance as Record<string, unknown>)
      .filter(([k]) => k.startsWith('hdf5ReaderPeakRssMb'))
      .map(([, v]) => Number(v));
    Object.assign(results, {
      bench: 'nsd-import',
      sessions,
      trials_per_session: trials,
      volume: [X, Y, Z],
      voxels: made.subject.nVoxels,
      response_shape: responseSet.artifact.shape,
      gb: +(written.bytes / 1e9).toFixed(3),
      upload_seconds: +uploadSeconds.toFixed(2),
      seconds: +seconds.toFixed(2),
      reference_seconds: +reference.seconds.toFixed(2),
      ratio_vs_reference: +(seconds / reference.seconds).toFixed(2),
      // Relative difference of sum |x| over the response array: the same numbers as numpy's.
      checksum_rel_diff: +(Math.abs(check.sum - reference.checksum) / reference.checksum).toExponential(2),
      reference_peak_rss_mb: Math.round(reference.peak_rss_mb),
      api_peak_rss_mb: peakRssMb(apiProc.pid!),
      hdf5_reader_peak_rss_mb: readerRss.length ? Math.max(...readerRss) : null,
      worker_peak_rss_mb: workerRss,
    });
  } finally {
    for (const child of children.reverse()) await stop(child);
    await dropDatabase(pgServer, dbName).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** Entry for `npm run bench -- nsd-import [--small] [--sessions N] [--trials N] [--voxels N]`; the last line is JSON. */
export async function main(args: string[]): Promise<void> {
  console.log(JSON.stringify(await run(args)));
}


