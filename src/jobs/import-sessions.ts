// IMPORT_SESSIONS: a subject's single-trial betas as session files (NIfTI 4D, or HDF5 datasets
// like NSD's /betas) plus a design table per session become one [n_repeats, n_stimuli, n_voxels]
// response set. Sessions are read one at a time, each masked to the subject's voxels and
// optionally z-scored per voxel within the session (NSD's practice), and every kept trial is
// written straight to its (repeat, stimulus) row of a float32 .npy on local disk. Only when every
// session has been read is that array stored and summarised by the ordinary response-set import
// (noise ceiling, split-half reliability); a failure or a cancel before leaves nothing but FAILED.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { maskVoxels } from '../domain/brain-volumes';
import { DesignError, MAX_DESIGN_BYTES, parseDesign, planRepeats } from '../domain/session-design';
import type { Artifact, SetStatus } from '../generated/prisma/client';
import { RunCancelledError, RunInputError, type JobResult } from '../runs/types';
import { formatNpyHeader, readPrefix } from '../storage';
import { affineDistance, formatAffine, NiftiFormatError, openNifti, readSingleVolume } from '../storage/nifti';
import { defineJob, type JobContext } from './define';
import { Hdf5InputError, openHdf5Betas } from './io/hdf5-betas';
import { openLocalArray } from './io/array-source';
import { SPLIT_HALF_DEFAULTS, summariseResponses } from './io/import-frame';
import { storeOutput } from './io/outputs';
import { SessionWriter } from './io/session-writer';

/** Affines equal within this many mm are the same grid (float32 header rounding), as for ROIs. */
const AFFINE_TOLERANCE_MM = 1e-3;
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Share of the progress bar the sessions take; the summaries the rest. */
const READING = 0.8;

export const importSessionsParams = z.object({
  responseSetId: z.uuid(),
  subjectId: z.uuid(),
  stimulusSetId: z.uuid(),
  sessions: z
    .array(z.object({ betasArtifactId: z.uuid(), designArtifactId: z.uuid(), hdf5Dataset: z.string().default('betas'), designSession: z.string().nullish() }))
    .min(1),
  zscore: z.boolean().default(true),
  /** Resolved when queued (the most common count unless asked for). */
  nRepeats: z.number().int().positive().nullable().default(null),
  /** HDF5 integer betas are divided by this (NSD stores percent signal change x 300). */
  hdf5Scale: z.number().positive().default(300),
  splitHalfSplits: z.number().int().min(0).default(SPLIT_HALF_DEFAULTS.splits),
  splitHalfSeed: z.number().int().min(0).default(SPLIT_HALF_DEFAULTS.seed),
});
export type ImportSessionsParams = z.output<typeof importSessionsParams>;

export function isHdf5(head: Buffer): boolean {
  return head.length >= 8 && head.subarray(0, 8).equals(HDF5_SIGNATURE);
}

async function artifactRow(ctx: JobContext<unknown>, id: string): Promise<Artifact> {
  const artifact = await ctx.db.artifact.findUnique({ where: { id } });
  if (!artifact) throw new RunInputError(`Artifact ${id} no longer exists`);
  return artifact;
}

/** Reads and parses a design table artifact. */
export async function readDesign(store: JobContext<unknown>['store'], artifact: Artifact, session?: string | null): Promise<{ file: string; trials: (string | null)[] }> {
  const file = artifact.filename || artifact.sha256;
  if (Number(artifact.size) > MAX_DESIGN_BYTES) throw new DesignError(file, `is ${artifact.size} bytes; a design table is at most ${MAX_DESIGN_BYTES} bytes`);
  const text = (await readPrefix(await store.get(artifact.sha256), MAX_DESIGN_BYTES)).toString('utf8');
  return { file: session ? `${file} (session ${session})` : file, trials: parseDesign(text, file, session) };
}

interface Space {
  shape: number[];
  affine: number[];
  voxels: Int32Array;
}

function inputError(err: unknown): never {
  if (err instanceof NiftiFormatError) throw new RunInputError(err.message, { file: err.file, headerField: err.field, ...err.values });
  if (err instanceof DesignError) throw new RunInputError(err.message, { file: err.file, ...err.values });
  throw err;
}

export const importSessions = defineJob({
  kind: 'IMPORT_SESSIONS',
  params: importSessionsParams,
  async handle(ctx): Promise<JobResult> {
    const p = ctx.params;
    const set = await ctx.db.responseSet.findUnique({ where: { id: p.responseSetId }, include: { subject: true } });
    if (!set) throw new RunInputError(`Response set ${p.responseSetId} no longer exists`);
    const mark = (data: { status: SetStatus; error: string | null }) => ctx.db.responseSet.update({ where: { id: set.id }, data });
    const subject = set.subject;
    if (!subject.maskArtifactId || subject.spaceShape.length !== 3) throw new RunInputError(`Subject ${subject.name} has no brain space`);
    const stimuli = (await ctx.db.stimulus.findMany({ where: { stimulusSetId: set.stimulusSetId }, orderBy: { position: 'asc' }, select: { externalId: true } })).map((s) => s.externalId);

    await mark({ status: 'IMPORTING', error: null });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'brainalign-sessions-'));
    const stopDownloads = new AbortController();
    try {
      const mask = await artifactRow(ctx, subject.maskArtifactId);
      const maskVolume = await readSingleVolume(await ctx.store.get(mask.sha256), mask.filename || mask.sha256).catch(inputError);
      const space: Space = { shape: subject.spaceShape, affine: subject.spaceAffine, voxels: maskVoxels(maskVolume.data, maskVolume.shape).flat };
      if (space.voxels.length !== subject.nVoxels) throw new RunInputError(`The subject's mask selects ${space.voxels.length} voxels but the subject has ${subject.nVoxels}`);

      const betas = await Promise.all(p.sessions.map((s) => artifactRow(ctx, s.betasArtifactId)));
      const designs: { file: string; trials: (string | null)[] }[] = [];
      for (const s of p.sessions) designs.push(await readDesign(ctx.store, await artifactRow(ctx, s.designArtifactId), s.designSession).catch(inputError));
      let plan;
      try {
        plan = planRepeats(designs, stimuli, p.nRepeats);
      } catch (err) {
        inputError(err);
      }
      ctx.recordProvenance({
        inputs: Object.fromEntries(betas.flatMap((b, i) => [[`session${i + 1}`, b.sha256], [`design${i + 1}`, designs[i].file]])),
        nRepeats: plan.nRepeats,
        extraPresentations: plan.extraPresentations,
        zscore: p.zscore,
      });

      const V = space.voxels.length;
      const shape = [plan.nRepeats, plan.nStimuli, V];
      const header = formatNpyHeader({ dtype: '<f4', shape });
      const outPath = path.join(dir, 'responses.npy');
      const out = await open(outPath, 'w+');
      try {
        await out.write(header, 0, header.length, 0);
        await out.truncate(header.length + plan.nRepeats * plan.nStimuli * V * 4);
        const hdf5: boolean[] = [];
        for (const b of betas) hdf5.push(isHdf5(await readPrefix(await ctx.store.getRange(b.sha256, 0, Math.min(8, Number(b.size))), 8)));
        // HDF5 is read by random access from a local copy; the next session's copy is fetched
        // while this one is read (at most two on disk), so the download overlaps the reading.
        const downloads = new Map<number, Promise<string>>();
        const download = (i: number) => {
          let d = downloads.get(i);
          if (!d) {
            const local = path.join(dir, `session-${i + 1}.h5`);
            d = (async () => {
              await pipeline(await ctx.store.get(betas[i].sha256), createWriteStream(local), { signal: stopDownloads.signal });
              return local;
            })();
            d.catch(() => undefined);
            downloads.set(i, d);
          }
          return d;
        };
        for (let i = 0; i < betas.length; i++) {
          // Also the cancel point: a cancelled run stops here, between sessions.
          await ctx.progress((READING * i) / betas.length, `session ${i + 1} of ${betas.length}: reading ${betas[i].filename}`);
          const writer = new SessionWriter(out, header.length, space.voxels, plan.slots[i], p.zscore);
          const session = { artifact: betas[i], index: i, count: betas.length, trials: plan.slots[i].length, design: designs[i].file, hdf5Dataset: p.sessions[i].hdf5Dataset };
          if (hdf5[i]) {
            const local = download(i);
            if (i + 1 < betas.length && hdf5[i + 1]) download(i + 1);
            await readHdf5Session(ctx, session, space, writer, p.hdf5Scale, await local);
          } else await readNiftiSession(ctx, session, space, writer);
        }
      } finally {
        await out.close();
      }
      await ctx.progress(READING, `storing the ${shape.join(' x ')} response array`);
      const artifact = await storeOutput(ctx, createReadStream(outPath), { filename: `${set.name}-sessions.npy`, dtype: '<f4', shape });
      // The summaries read the local copy of what was just stored (the same bytes), not S3 again;
      // the folder goes at the end.
      const source = await openLocalArray(outPath, artifact.filename);
      const summarising = { ...ctx, params: p as unknown as Record<string, unknown>, progress: (f: number, m: string) => ctx.progress(READING + (1 - READING) * f, m) };
      const result = await summariseResponses(summarising, source, {
        setId: set.id,
        nStimuli: plan.nStimuli,
        nVoxels: V,
        name: artifact.filename,
        splitHalfSplits: p.splitHalfSplits,
        splitHalfSeed: p.splitHalfSeed,
      });
      return {
        outputs: { responses: artifact.id, ...result.outputs },
        commit: async (tx) => {
          await result.commit?.(tx);
          await tx.responseSet.update({ where: { id: set.id }, data: { artifactId: artifact.id } });
        },
      };
    } catch (err) {
      if (err instanceof RunInputError) await mark({ status: 'FAILED', error: err.message });
      // A cancelled import holds no data; FAILED lets it be imported again under the same name.
      if (err instanceof RunCancelledError) await mark({ status: 'FAILED', error: 'The import was cancelled' });
      throw err;
    } finally {
      stopDownloads.abort();
      await rm(dir, { recursive: true, force: true });
    }
  },
});

interface SessionInfo {
  artifact: Artifact;
  index: number;
  count: number;
  /** Trials the design lists (its last trial + 1). */
  trials: number;
  design: string;
  hdf5Dataset: string;
}

function sameShape(session: SessionInfo, space: Space, found: number[], how = '') {
  if (found.join() !== space.shape.join())
    throw new RunInputError(
      `${session.artifact.filename} (session ${session.index + 1}) holds volumes of shape [${found.join(', ')}]${how} but the subject's space is [${space.shape.join(', ')}]; every session must be on the subject's grid`,
      { file: session.artifact.filename, session: session.index + 1, expected: space.shape, found },
    );
}

function enoughTrials(session: SessionInfo, volumes: number) {
  if (session.trials > volumes)
    throw new RunInputError(
      `${session.design} lists ${session.trials} trials but ${session.artifact.filename} (session ${session.index + 1}) holds ${volumes} volumes`,
      { file: session.design, session: session.index + 1, trials: session.trials, volumes },
    );
}

async function readNiftiSession(ctx: JobContext<unknown>, session: SessionInfo, space: Space, writer: SessionWriter) {
  const name = session.artifact.filename || session.artifact.sha256;
  const reader = await openNifti(await ctx.store.get(session.artifact.sha256), name).catch(inputError);
  try {
    sameShape(session, space, reader.shape3d);
    const distance = affineDistance(space.affine, reader.header.affine);
    if (distance > AFFINE_TOLERANCE_MM)
      throw new RunInputError(
        `${name} (session ${session.index + 1}) has affine ${formatAffine(reader.header.affine)} but the subject's space has ${formatAffine(space.affine)} (they differ by up to ${distance.toPrecision(3)} mm); resample it onto the subject's grid`,
        { file: name, session: session.index + 1, expected: space.affine, found: reader.header.affine },
      );
    enoughTrials(session, reader.nVolumes);
    let t = 0;
    for await (const volume of reader.volumes()) {
      await writer.addVolume(t++, volume);
      if (t % 50 === 0) await ctx.progress((READING * (session.index + t / reader.nVolumes)) / session.count, `session ${session.index + 1} of ${session.count}: ${t} of ${reader.nVolumes} volumes`);
    }
  } catch (err) {
    inputError(err);
  } finally {
    reader.close();
  }
  await writer.finishVolumes();
}

async function readHdf5Session(ctx: JobContext<unknown>, session: SessionInfo, space: Space, writer: SessionWriter, scale: number, local: string) {
  const name = session.artifact.filename || session.artifact.sha256;
  let betas;
  try {
    betas = await openHdf5Betas(local, session.hdf5Dataset, undefined, space.voxels);
  } catch (err) {
    if (err instanceof Hdf5InputError) throw new RunInputError(`${name} (session ${session.index + 1}) ${err.message}`, { file: name, session: session.index + 1 });
    throw err;
  }
  try {
    const [T, Z, Y, X] = betas.layout.shape;
    sameShape(session, space, [X, Y, Z], ` (h5py shape [${betas.layout.shape.join(', ')}], trials x Z x Y x X)`);
    enoughTrials(session, T);
    const factor = /^[<|][iu]/.test(betas.layout.dtype) ? 1 / scale : 1;
    const voxels = space.voxels;
    const trialsFastest = betas.layout.trialsFastest === true;
    // Subject voxels run x slowest, so the voxels of a slab of X columns are one contiguous range.
    let v0 = 0;
    for await (const slab of betas.slabs()) {
      if (betas.layout.order === 'trials') {
        const size = Z * Y * X;
        for (let t = slab.from; t < slab.to; t++) {
          const start = (t - slab.from) * size;
          await writer.addVolume(t, subarrayOf(slab.data, start, size), factor);
        }
      } else {
        const w = slab.to - slab.from;
        let v1 = v0;
        while (v1 < voxels.length && voxels[v1] % X < slab.to) v1++;
        const series = new Float64Array((v1 - v0) * T);
        const perTrial = Z * Y * w;
        for (let v = v0; v < v1; v++) {
          const at = voxels[v];
          const x = at % X;
          const y = Math.floor(at / X) % Y;
          const z = Math.floor(at / (X * Y));
          const within = z * Y * w + y * w + (x - slab.from);
          const base = (v - v0) * T;
          if (trialsFastest) for (let t = 0, at = within * T; t < T; t++) series[base + t] = slab.data[at + t] * factor;
          else for (let t = 0; t < T; t++) series[base + t] = slab.data[t * perTrial + within] * factor;
        }
        await writer.addVoxelSeries(v0, v1, series, T);
        v0 = v1;
      }
      const along = betas.layout.order === 'trials' ? T : X;
      await ctx.progress((READING * (session.index + slab.to / along)) / session.count, `session ${session.index + 1} of ${session.count}: ${slab.to} of ${along} ${betas.layout.order === 'trials' ? 'trials' : 'x columns'}`);
    }
  } finally {
    betas.close();
    await rm(local, { force: true });
  }
  if (betas.peakRssMb) ctx.recordProvenance({ [`hdf5ReaderPeakRssMb${session.index + 1}`]: betas.peakRssMb });
  if (betas.layout.order === 'trials') await writer.finishVolumes();
}

function subarrayOf(data: ArrayLike<number>, start: number, size: number): ArrayLike<number> {
  return (data as Int16Array).subarray(start, start + size);
}
