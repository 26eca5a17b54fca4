// Direct upload of one source: announce size and sha256, PUT the bytes (in the parts the server
// chose), finalize. Multipart uploads keep their progress in a state file, so running the same
// command again after an interruption sends only the missing parts.
import type { Writable } from 'node:stream';
import type { ApiClient } from '../client';
import { CliError } from '../exit-codes';
import { byteProgress } from '../progress';
import { PutRejected, putStream } from './http-put';
import { hashSource, type UploadSource } from './sources';
import type { UploadState, UploadStateStore } from './state';

export interface UploadedArtifact {
  id: string;
  sha256: string;
  size: string;
  filename: string;
  dtype: string | null;
  shape: number[];
  /** Parts already at the store from an earlier, interrupted attempt. */
  resumedParts: number;
  uploadedParts: number;
}

export interface UploadOptions {
  client: ApiClient;
  states: UploadStateStore;
  progress: { stream: Writable; enabled: boolean };
  mediaType?: string;
  /** Parts sent at once (default 4). */
  parallel?: number;
  /** Called after each part is stored and recorded; lets a caller stop between parts. */
  afterPart?: (partNumber: number) => void | Promise<void>;
}

const DEFAULT_PARALLEL_PARTS = 4;

/** An upload expires on the server; one that ends within this margin is started afresh. */
const EXPIRY_MARGIN_MS = 60_000;

export async function uploadSource(source: UploadSource, opts: UploadOptions): Promise<UploadedArtifact> {
  const apiUrl = opts.client.config.url;
  let state = await opts.states.load(apiUrl, source.key);
  if (state && new Date(state.expiresAt).getTime() - Date.now() < EXPIRY_MARGIN_MS) {
    await opts.states.remove(apiUrl, source.key);
    state = null;
  }
  try {
    return await send(source, state, opts);
  } catch (err) {
    // The server forgot the upload (expired, swept, another installation): start once more from scratch.
    if (state && isStaleUpload(err)) {
      await opts.states.remove(apiUrl, source.key);
      return send(source, null, opts);
    }
    throw err;
  }
}

function isStaleUpload(err: unknown): boolean {
  if (err instanceof PutRejected) return err.status === 403 || err.status === 404;
  return err instanceof CliError && (err.code === 'NOT_FOUND' || (err.code === 'BAD_USER_INPUT' && /expired|No bytes arrived/.test(err.message)));
}

async function send(source: UploadSource, resumed: UploadState | null, opts: UploadOptions): Promise<UploadedArtifact> {
  const { client, states } = opts;
  const label = source.filename.length > 24 ? `…${source.filename.slice(-23)}` : source.filename.padEnd(24);
  let state = resumed;
  if (!state) {
    const hashing = byteProgress(opts.progress.stream, opts.progress.enabled, `${label} sha256`, source.size);
    let hashed = 0;
    const sha256 = await hashSource(source, (n) => hashing.update((hashed += n)));
    hashing.done();
    const { createArtifactUpload: up } = await client.request(
      `mutation($input: CreateArtifactUploadInput!) { createArtifactUpload(input: $input) {
         id url method headers expiresAt parts { partNumber url offset size } } }`,
      { input: { filename: source.filename, size: String(source.size), sha256, ...(opts.mediaType ? { mediaType: opts.mediaType } : {}) } },
    );
    state = {
      apiUrl: client.config.url,
      sourceKey: source.key,
      sha256,
      size: source.size,
      uploadId: up.id,
      expiresAt: up.expiresAt,
      etags: {},
      ...(up.parts
        ? { parts: up.parts.map((p: any) => ({ partNumber: p.partNumber, url: p.url, offset: Number(p.offset), size: Number(p.size) })) }
        : { single: { url: up.url, method: up.method, headers: up.headers ?? {} } }),
    };
    // Single PUTs cannot resume midway; only multipart uploads are worth remembering.
    if (state.parts) await states.save(state);
  }

  const parts = state.parts ?? [];
  const resumedParts = parts.filter((p) => state!.etags[p.partNumber]).length;
  let done = parts.filter((p) => state!.etags[p.partNumber]).reduce((a, p) => a + p.size, 0);
  const bar = byteProgress(opts.progress.stream, opts.progress.enabled, `${label} upload`, source.size, done);
  let uploadedParts = 0;
  if (state.single) {
    const { single } = state;
    await putStream(single.url, single.headers, source.size, await source.open(0, source.size), (n) => bar.update((done += n)), single.method);
    uploadedParts = 1;
  } else {
    const pending = parts.filter((p) => !state!.etags[p.partNumber]);
    const st = state;
    let saving = Promise.resolve();
    let failed: { error: unknown } | null = null;
    // A few parts in flight at once; after any failure no new part starts, and the state file
    // keeps every ETag that arrived, so the next attempt sends only what is missing.
    const worker = async () => {
      for (let part = pending.shift(); part && !failed; part = pending.shift()) {
        try {
          const { etag } = await putStream(part.url, {}, part.size, await source.open(part.offset, part.offset + part.size), (n) => bar.update((done += n)));
          st.etags[part.partNumber] = etag;
          uploadedParts++;
          await (saving = saving.then(() => states.save(st)));
          await opts.afterPart?.(part.partNumber);
        } catch (error) {
          failed ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel ?? DEFAULT_PARALLEL_PARTS, pending.length)) }, worker));
    if (failed) throw (failed as { error: unknown }).error;
  }
  bar.done(resumedParts ? `(resumed: ${resumedParts} of ${parts.length} parts were already there)` : undefined);

  const { finalizeArtifactUpload: artifact } = await client.request(
    `mutation($input: FinalizeArtifactUploadInput!) { finalizeArtifactUpload(input: $input) { id sha256 size filename dtype shape } }`,
    {
      input: {
        uploadId: state.uploadId,
        ...(state.parts ? { parts: parts.map((p) => ({ partNumber: p.partNumber, etag: state!.etags[p.partNumber] })) } : {}),
      },
    },
  );
  await states.remove(state.apiUrl, state.sourceKey);
  return { ...artifact, resumedParts, uploadedParts };
}
