// Uploads bytes the way a client does: ask for an upload, PUT the bytes (one request or one per
// part) straight to the store, then finalize.
import { createHash } from 'node:crypto';
import type { TestApi } from './api';

export async function uploadArtifact(api: TestApi, bytes: Uint8Array, filename: string): Promise<{ id: string; sha256: string }> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const { createArtifactUpload: up } = await api.ok(
    `mutation($input: CreateArtifactUploadInput!) { createArtifactUpload(input: $input) { id url method headers parts { partNumber url offset size } } }`,
    { input: { filename, size: String(bytes.length), sha256 } },
  );
  let parts: { partNumber: number; etag: string }[] | undefined;
  if (up.parts) {
    parts = [];
    for (const p of up.parts) {
      const body = bytes.subarray(Number(p.offset), Number(p.offset) + Number(p.size));
      const res = await fetch(p.url, { method: 'PUT', body });
      if (!res.ok) throw new Error(`part ${p.partNumber} upload failed: ${res.status} ${await res.text()}`);
      parts.push({ partNumber: p.partNumber, etag: res.headers.get('etag') ?? '' });
    }
  } else {
    const res = await fetch(up.url, { method: up.method, headers: up.headers, body: bytes });
    if (!res.ok) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  }
  const { finalizeArtifactUpload: artifact } = await api.ok(
    `mutation($input: FinalizeArtifactUploadInput!) { finalizeArtifactUpload(input: $input) { id sha256 } }`,
    { input: { uploadId: up.id, parts } },
  );
  return artifact;
}

/** Polls a run until it ends; returns the final run. */
export async function waitForRun(api: TestApi, runId: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { run } = await api.ok(`query($id: ID!) { run(id: $id) { id status progress progressMessage error { code message } provenance attempts } }`, { id: runId });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms: ${run.progressMessage}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
