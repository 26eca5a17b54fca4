// Reading an uploaded array (.npy, or one member of an .npz) as byte ranges, so handlers can
// stream any slab of it (e.g. one repeat of a [repeats, stimuli, voxels] array) without holding
// the whole array.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Artifact } from '../../generated/prisma/client';
import { RunInputError } from '../../runs/types';
import {
  formatNpyHeader,
  NpyFormatError,
  NpzArchive,
  NpzFormatError,
  parseNpyHeader,
  readNpyRows,
  readPrefix,
  rewriteFortranAsC,
  type ArtifactStore,
  type NpyHeader,
} from '../../storage';

export interface ArraySource {
  header: NpyHeader;
  /** Bytes [offset, offset + length) of the .npy file. */
  bytes(offset: number, length: number): Promise<Readable>;
  close(): Promise<void>;
}

const PROBE = 64 * 1024;

/**
 * Opens an uploaded array for slab reads in C order. A Fortran-ordered array (rank 2 or more)
 * is first rewritten in C order into a local temp file (rewriteFortranAsC: one streaming pass,
 * memory bounded by one block of columns), so every reader downstream sees rows.
 */
export async function openArraySource(store: ArtifactStore, artifact: Artifact, npzMember?: string | null): Promise<ArraySource> {
  const source = await openStoredArray(store, artifact, npzMember);
  const { header } = source;
  if (!header.fortranOrder || header.shape.length < 2) return source;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'brainalign-fortran-'));
  const file = path.join(dir, 'c-order.npy');
  try {
    const rewritten = await rewriteFortranAsC(await source.bytes(header.dataOffset, header.dataBytes), header, file);
    return {
      header: rewritten.header,
      bytes: async (offset, length) => (length > 0 ? createReadStream(file, { start: offset, end: offset + length - 1 }) : Readable.from([])),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (err instanceof NpyFormatError || err instanceof NpzFormatError) throw new RunInputError(`${npzMember ? `${artifact.filename}:${npzMember}` : artifact.filename}: ${err.message}`);
    throw err;
  } finally {
    await source.close();
  }
}

/** A .npy on local disk (one this worker wrote and also stored), read without going back to the store. */
export async function openLocalArray(file: string, name: string): Promise<ArraySource> {
  const { size } = await stat(file);
  const header = parseOrReject(await readPrefix(createReadStream(file, { start: 0, end: Math.min(PROBE, size) - 1 })), size, name);
  return {
    header,
    bytes: async (offset, length) => (length > 0 ? createReadStream(file, { start: offset, end: offset + length - 1 }) : Readable.from([])),
    close: async () => undefined,
  };
}

async function openStoredArray(store: ArtifactStore, artifact: Artifact, npzMember?: string | null): Promise<ArraySource> {
  const isNpz = Boolean(npzMember) || artifact.filename.endsWith('.npz');
  if (!isNpz) {
    const size = Number(artifact.size);
    const head = await readPrefix(await store.getRange(artifact.sha256, 0, Math.min(PROBE, size)));
    const header = parseOrReject(head, size, artifact.filename);
    return { header, bytes: (offset, length) => store.getRange(artifact.sha256, offset, length), close: async () => undefined };
  }
  if (!npzMember) throw new RunInputError(`${artifact.filename} is an .npz archive: name the member to import (npzMember)`);
  // Zip members are located through the central directory at the end: keep a local copy.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'brainalign-npz-'));
  const file = path.join(dir, 'archive.npz');
  await pipeline(await store.get(artifact.sha256), createWriteStream(file));
  let archive: NpzArchive;
  try {
    archive = await NpzArchive.open(file);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new RunInputError(`${artifact.filename}: ${(err as Error).message}`);
  }
  let header: NpyHeader;
  try {
    const m = archive.member(npzMember);
    // One pass over the member first: a bad CRC, a member that inflates past its recorded size
    // or damaged deflate data fails now, as bad input, before any row is used.
    await archive.verifyMember(npzMember);
    const head = await readPrefix(await archive.openMember(npzMember), PROBE);
    header = parseOrReject(head, m.size, `${artifact.filename}:${npzMember}`);
  } catch (err) {
    await archive.close();
    await rm(dir, { recursive: true, force: true });
    if (err instanceof NpzFormatError || err instanceof NpyFormatError) throw new RunInputError(`${artifact.filename}: ${err.message}`, { member: npzMember });
    throw err;
  }
  return {
    header,
    // pipeline, unlike pipe, carries a member's read error to whoever reads the slab.
    bytes: async (offset, length) => {
      const out = slice(offset, length);
      pipeline(await archive.openMember(npzMember), out).catch((err) => out.destroy(err));
      return out;
    },
    close: async () => {
      await archive.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function parseOrReject(head: Buffer, size: number, name: string): NpyHeader {
  try {
    return parseNpyHeader(head, { fileSize: size });
  } catch (err) {
    throw new RunInputError(`${name} is not a valid .npy array: ${(err as Error).message}`);
  }
}

/** Passes bytes [offset, offset + length) of the input through, discarding the rest. */
function slice(offset: number, length: number): Transform {
  let pos = 0;
  const end = offset + length;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const from = Math.max(offset - pos, 0);
      const to = Math.min(end - pos, chunk.length);
      if (to > from) this.push(chunk.subarray(from, to));
      pos += chunk.length;
      done();
    },
  });
}

/**
 * Streams a 2-D slab of the array: `rows` leading rows starting at element `startElement`
 * (C order), each of `rowLength` elements, as float32 row chunks.
 */
export async function* readSlabRows(
  source: ArraySource,
  startElement: number,
  rows: number,
  rowLength: number,
  rowsPerChunk?: number,
): AsyncGenerator<{ start: number; count: number; data: Float32Array }> {
  const { dtype, dataOffset } = source.header;
  const length = rows * rowLength * dtype.itemSize;
  const body = await source.bytes(dataOffset + startElement * dtype.itemSize, length);
  // A 2-D header in front lets the ordinary .npy row reader do the decoding and length checks.
  const stream = new PassThrough();
  stream.write(formatNpyHeader({ dtype, shape: [rows, rowLength] }));
  // One pipeline: a failing body fails the reader, and a reader that stops early frees the body.
  pipeline(body, stream).catch(() => undefined);
  for await (const item of readNpyRows(stream, { rowsPerChunk })) {
    if (item.kind === 'rows') yield { start: item.start, count: item.count, data: item.data };
  }
}
