// Direct uploads: the client sends bytes straight to the store (presigned URLs, multipart for
// large files); finalize re-hashes what arrived before an Artifact row exists.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { badInput, conflict, DomainError, notFound } from '../errors';
import type { Artifact, ArtifactUpload } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { plainLookups } from './lookups';
import type { Services } from '../services';
import { parseNpyHeader, readPrefix, StorageError } from '../storage';
import { assertCanWrite, canReadArtifact, targetLab } from './access';
import { requireName, requireUuid } from './validate';

const UPLOAD_TTL_MS = 24 * 3600 * 1000;
const HEADER_PROBE_BYTES = 64 * 1024;

export async function createUpload(
  ctx: DomainContext,
  input: { filename: string; size: bigint | string; sha256: string; mediaType?: string | null; labId?: string | null },
) {
  const labId = targetLab(ctx.viewer, input.labId);
  const filename = requireName(input.filename, 'filename', 500);
  const sha256 = input.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw badInput('sha256 must be 64 hexadecimal characters', 'sha256');
  const size = parseSize(input.size);
  const max = ctx.services.config.maxUploadBytes;
  if (size > max)
    throw new DomainError('PAYLOAD_TOO_LARGE', `The file is ${size} bytes; this installation accepts at most ${max} bytes per artifact (MAX_UPLOAD_GB)`, {
      field: 'size',
      limit: max,
    });
  const id = randomUUID();
  const stagingKey = `uploads/${id}`;
  const target = await ctx.services.store.createUpload(stagingKey, size);
  const expiresAt = new Date(Date.now() + UPLOAD_TTL_MS);
  await ctx.db.artifactUpload.create({
    data: {
      id,
      labId,
      stagingKey,
      expectedSha256: sha256,
      expectedSize: size,
      filename,
      mediaType: input.mediaType ?? guessMediaType(filename),
      expiresAt,
      multipartId: target.kind === 'multipart' ? target.multipart.uploadId : null,
    },
  });
  if (target.kind === 'multipart')
    return { id, method: 'PUT', headers: {}, url: null, partSize: target.multipart.partSize, parts: target.multipart.parts, expiresAt };
  return { id, method: target.method, headers: target.headers ?? {}, url: target.url, partSize: null, parts: null, expiresAt };
}

function parseSize(value: bigint | string): number {
  const size = Number(value);
  if (!Number.isSafeInteger(size) || size <= 0) throw badInput(`size must be a positive number of bytes (got ${value})`, 'size');
  return size;
}

function guessMediaType(filename: string): string {
  if (filename.endsWith('.npy')) return 'application/x-npy';
  if (filename.endsWith('.npz')) return 'application/x-npz';
  if (filename.endsWith('.onnx')) return 'application/onnx';
  if (filename.endsWith('.json') || filename.endsWith('.jsonl')) return 'application/json';
  if (filename.endsWith('.csv')) return 'text/csv';
  return 'application/octet-stream';
}

export async function finalizeUpload(ctx: DomainContext, input: { uploadId: string; parts?: { partNumber: number; etag: string }[] | null }) {
  const upload = await ctx.db.artifactUpload.findUnique({ where: { id: requireUuid(input.uploadId, 'uploadId') } });
  // Another lab's upload is reported as missing, like anything the viewer may not read.
  if (!upload || !(ctx.viewer.superuser || ctx.viewer.roles.has(upload.labId))) throw notFound('Upload', input.uploadId);
  assertCanWrite(ctx.viewer, upload.labId);
  const { store } = ctx.services;
  // One finalize at a time per upload: the request that claims the row does the work; the others
  // get the artifact it made, or CONFLICT while it is still hashing. A claim older than
  // FINALIZE_CLAIM_MS belongs to a crashed request and may be taken over.
  const claimed = await ctx.db.artifactUpload.updateMany({
    where: { id: upload.id, OR: [{ finalizingSince: null }, { finalizingSince: { lt: new Date(Date.now() - FINALIZE_CLAIM_MS) } }] },
    data: { finalizingSince: new Date() },
  });
  if (claimed.count === 0) {
    const made = await ctx.db.artifact.findUnique({ where: { sha256: upload.expectedSha256 } });
    if (made && (made.labId === upload.labId || made.sharedWith.includes(upload.labId))) return made;
    throw conflict(`Upload ${upload.id} is being finalized by another request; retry in a few seconds`, { uploadId: upload.id });
  }
  try {
    return await finalizeClaimed(ctx, upload, input.parts);
  } finally {
    // Released whether it failed (the client may fix the parts and retry) or the row is already gone.
    await ctx.db.artifactUpload.updateMany({ where: { id: upload.id }, data: { finalizingSince: null } });
  }
}

const FINALIZE_CLAIM_MS = 15 * 60_000;

async function finalizeClaimed(ctx: DomainContext, upload: ArtifactUpload, parts: { partNumber: number; etag: string }[] | null | undefined) {
  const { store } = ctx.services;
  // Whatever happens next, the staging object and the upload row are not left behind.
  const discard = async () => {
    await store.deleteStaging(upload.stagingKey).catch(() => undefined);
    await ctx.db.artifactUpload.deleteMany({ where: { id: upload.id } });
  };
  if (upload.expiresAt < new Date()) {
    await discard();
    throw badInput(`Upload ${upload.id} expired at ${upload.expiresAt.toISOString()}; start a new one`, 'uploadId');
  }
  if (upload.multipartId) {
    if (!parts?.length) throw badInput('This upload was split into parts: pass each part number with its ETag', 'parts');
    try {
      await store.completeMultipart(upload.stagingKey, upload.multipartId, parts);
    } catch (err) {
      // Missing parts, wrong ETags, a finished upload: the client can fix each of these.
      if (err instanceof StorageError && err.code !== 'INTERNAL') throw badInput(`Cannot assemble upload ${upload.id}: ${err.message}`, 'parts');
      throw err;
    }
  }
  let got: { sha256: string; size: number; etag: string };
  try {
    got = await store.hashStaging(upload.stagingKey);
  } catch (err) {
    throw badInput(`No bytes arrived for upload ${upload.id}: send them to the upload URL before finalizing (${(err as Error).message})`, 'uploadId');
  }
  if (got.size !== Number(upload.expectedSize) || got.sha256 !== upload.expectedSha256) {
    await discard();
    throw badInput(
      `The uploaded bytes do not match what was announced: expected ${upload.expectedSize} bytes with sha256 ${upload.expectedSha256}, received ${got.size} bytes with sha256 ${got.sha256}. Upload again.`,
      'uploadId',
    );
  }
  let header: { dtype: string; shape: number[] } | null = null;
  if (upload.filename.endsWith('.npy')) {
    try {
      header = await probeNpyHeader(await store.getStaging(upload.stagingKey), got.size);
    } catch (err) {
      await discard();
      throw badInput(`${upload.filename} is not a valid .npy file: ${(err as Error).message}`, 'uploadId');
    }
  }
  const existing = await ctx.db.artifact.findUnique({ where: { sha256: got.sha256 } });
  if (existing) {
    await discard();
    // The uploader's lab holds these bytes too, so it may read (and use) the existing artifact.
    if (existing.labId === upload.labId || existing.sharedWith.includes(upload.labId)) return existing;
    return ctx.db.artifact.update({ where: { id: existing.id }, data: { sharedWith: { push: upload.labId } } });
  }
  // The etag guards against bytes replaced between hashing and promotion.
  await store.promoteStaging(upload.stagingKey, got.sha256, { size: got.size, etag: got.etag });
  const [artifact] = await ctx.db.$transaction([
    ctx.db.artifact.upsert({
      where: { sha256: got.sha256 },
      update: {},
      create: {
        labId: upload.labId,
        sha256: got.sha256,
        size: BigInt(got.size),
        filename: upload.filename,
        mediaType: upload.mediaType,
        dtype: header?.dtype ?? null,
        shape: header?.shape ?? [],
      },
    }),
    ctx.db.artifactUpload.deleteMany({ where: { id: upload.id } }),
  ]);
  return artifact;
}

/**
 * An artifact named as the input of a write, when the viewer may read it; otherwise reported as
 * missing (BAD_USER_INPUT on `field`), so another lab's private arrays can neither be used nor probed.
 */
export async function inputArtifact(ctx: DomainContext, id: string, field: string): Promise<Artifact> {
  const artifact = await plainLookups(ctx).artifact.load(requireUuid(id, field));
  const readable = artifact && (await canReadArtifact(ctx.db, ctx.viewer, artifact));
  if (!readable) {
    ctx.viewer.onNotFound?.('Artifact', id);
    throw badInput(`Artifact ${id} does not exist or is not visible to you; upload it first (createArtifactUpload)`, field);
  }
  return artifact;
}

/** Reads just enough of a stream to parse the .npy header, then stops reading. */
export async function probeNpyHeader(stream: Readable, fileSize: number): Promise<{ dtype: string; shape: number[] }> {
  // The known file size lets the header check catch truncated data without reading it all.
  const header = parseNpyHeader(await readPrefix(stream, HEADER_PROBE_BYTES), { fileSize });
  return { dtype: header.dtype.descr, shape: header.shape };
}

/** Stores bytes produced on the server (seeds, job outputs) and records the artifact. */
export async function storeArtifact(
  services: Pick<Services, 'db' | 'store'>,
  body: Readable | Buffer,
  meta: { filename: string; labId?: string | null; mediaType?: string; dtype?: string; shape?: number[] },
): Promise<Artifact> {
  const { sha256, size } = await services.store.putStream(body);
  return services.db.artifact.upsert({
    where: { sha256 },
    update: {},
    create: {
      sha256,
      size: BigInt(size),
      labId: meta.labId ?? null,
      filename: meta.filename,
      mediaType: meta.mediaType ?? guessMediaType(meta.filename),
      dtype: meta.dtype ?? null,
      shape: meta.shape ?? [],
    },
  });
}

/** Removes uploads that were started and never finalized. */
export async function sweepExpiredUploads(services: Pick<Services, 'db' | 'store'>, now = new Date()): Promise<number> {
  const expired = await services.db.artifactUpload.findMany({ where: { expiresAt: { lt: now } }, take: 500 });
  for (const upload of expired) {
    await services.store.deleteStaging(upload.stagingKey).catch(() => undefined);
    await services.db.artifactUpload.delete({ where: { id: upload.id } }).catch(() => undefined);
  }
  return expired.length;
}

/**
 * Whether bytes may still be sent to a staging key: its upload exists, has not expired and no
 * finalize has claimed it. The store's upload endpoint asks before and after receiving a body.
 */
export function uploadIsOpen(db: Services['db']): (stagingKey: string) => Promise<boolean> {
  return async (stagingKey) => {
    const upload = await db.artifactUpload.findUnique({ where: { stagingKey }, select: { expiresAt: true, finalizingSince: true } });
    return Boolean(upload && upload.expiresAt > new Date() && !upload.finalizingSince);
  };
}

/** A staged object younger than this may belong to an upload whose row is being written. */
const ORPHAN_GRACE_MS = 10 * 60_000;

/**
 * Everything an interrupted or abandoned upload can leave in the store: expired uploads, temp
 * files of writes whose process died (or that stopped for an hour), and staged objects or
 * multipart uploads that no upload row owns. Run at start-up and every UPLOAD_SWEEP_MINUTES.
 */
export async function sweepUploads(services: Pick<Services, 'db' | 'store'>, now = new Date()): Promise<{ expired: number; temp: number; orphans: number }> {
  const { db, store } = services;
  const expired = await sweepExpiredUploads(services, now);
  const temp = store.cleanTemp ? await store.cleanTemp() : 0;
  let orphans = 0;
  if (store.listStaging) {
    const batch: { stagingKey: string; uploadId?: string }[] = [];
    const flush = async () => {
      const keys = [...new Set(batch.map((b) => b.stagingKey))];
      const open = await db.artifactUpload.findMany({ where: { stagingKey: { in: keys } }, select: { stagingKey: true, multipartId: true } });
      const owner = new Map(open.map((u) => [u.stagingKey, u.multipartId]));
      for (const b of batch) {
        const live = owner.has(b.stagingKey) && (b.uploadId === undefined || owner.get(b.stagingKey) === b.uploadId);
        if (live) continue;
        if (b.uploadId) await store.abortMultipart(b.stagingKey, b.uploadId).catch(() => undefined);
        else if (!owner.has(b.stagingKey)) await store.deleteStaging(b.stagingKey).catch(() => undefined);
        orphans++;
      }
      batch.length = 0;
    };
    for await (const entry of store.listStaging()) {
      if (now.getTime() - entry.modifiedAt.getTime() < ORPHAN_GRACE_MS) continue;
      batch.push(entry);
      if (batch.length >= 200) await flush();
    }
    if (batch.length) await flush();
  }
  return { expired, temp, orphans };
}
