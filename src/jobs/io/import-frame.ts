// IMPORT_RESPONSES and IMPORT_FEATURES: check an uploaded array against the catalog (rows =
// stimuli of the set, columns = the subject's voxels, numeric dtype, finite values), compute
// per-voxel summaries in one streaming pass, and mark the set READY.
import type { Artifact, SetStatus } from '../../generated/prisma/client';
import { z } from 'zod';
import { RunInputError, type JobContext, type JobResult } from '../../runs/types';
import { defineJob, type JobContext as ParsedJobContext } from '../define';
import { formatShape, NpyFormatError, NpzFormatError } from '../../storage';
import { nanMedian } from '../../compute/metrics';
import { firstNonFinite, RepeatVariance } from '../../compute/response-stats';
import { VoxelMomentsAccumulator } from '../../compute/stats';
import { drawSplits, SplitHalfAccumulator } from '../../compute/split-half';
import { openArraySource, readSlabRows, type ArraySource } from './array-source';
import { saveArray } from './outputs';

const NUMERIC = new Set(['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'float32', 'float64']);
/** Split-half reliability: how many random splits of the repeats, and the seed that draws them. */
export const SPLIT_HALF_DEFAULTS = { splits: 100, seed: 0 };
/** Rows per chunk are chosen so one chunk of every repeat stays near this many bytes. */
const CHUNK_BYTES = 16 * 1024 * 1024;

async function loadArtifact(ctx: JobContext, id: string): Promise<Artifact> {
  const artifact = await ctx.db.artifact.findUnique({ where: { id } });
  if (!artifact) throw new RunInputError(`Artifact ${id} no longer exists`);
  ctx.recordProvenance({ inputs: { [artifact.filename || 'array']: artifact.sha256 } });
  return artifact;
}

function checkNumeric(source: ArraySource, name: string) {
  // Fortran-ordered arrays arrive here already rewritten in C order (openArraySource).
  const { dtype } = source.header;
  if (!NUMERIC.has(dtype.name)) throw new RunInputError(`${name} has dtype ${dtype.descr}; a numeric array is required`);
}

function rejectNonFinite(data: Float32Array, firstRow: number, rowLength: number, what: string, rowLabel: (row: number) => string) {
  const bad = firstNonFinite(data);
  if (bad < 0) return;
  const row = firstRow + Math.floor(bad / rowLength);
  throw new RunInputError(`${what} holds ${data[bad]} at ${rowLabel(row)}, column ${bad % rowLength}; NaN and Inf are not allowed`, {
    row,
    column: bad % rowLength,
  });
}

/** The uploaded array, and the member of an .npz that holds it. */
const uploaded = { artifactId: z.string(), npzMember: z.string().nullable().default(null) };

/**
 * As recorded on the run; the catalog fields (subject, stimulus set, name) are recorded for the
 * reader, the handler reads the set it fills.
 */
export const importResponsesParams = z.object({
  ...uploaded,
  /** Created with the run, in the same transaction. */
  responseSetId: z.string(),
  subjectId: z.string().optional(),
  stimulusSetId: z.string().optional(),
  name: z.string().optional(),
  // Runs recorded before split-half reliability existed parse with the defaults they ran with.
  splitHalfSplits: z
    .number()
    .int({ error: (iss) => `splitHalfSplits must be an integer from 0 to 1000; got ${iss.input}` })
    .min(0, { error: (iss) => `splitHalfSplits must be an integer from 0 to 1000; got ${iss.input}` })
    .max(1000, { error: (iss) => `splitHalfSplits must be an integer from 0 to 1000; got ${iss.input}` })
    .default(SPLIT_HALF_DEFAULTS.splits),
  splitHalfSeed: z
    .number()
    .int({ error: (iss) => `splitHalfSeed must be a non-negative integer; got ${iss.input}` })
    .min(0, { error: (iss) => `splitHalfSeed must be a non-negative integer; got ${iss.input}` })
    .default(SPLIT_HALF_DEFAULTS.seed),
});

export const importFeaturesParams = z.object({
  ...uploaded,
  /** Created with the run, in the same transaction. */
  featureSetId: z.string(),
  modelId: z.string().optional(),
  stimulusSetId: z.string().optional(),
  layer: z.string().optional(),
});

export const importResponses = defineJob({
  kind: 'IMPORT_RESPONSES',
  params: importResponsesParams,
  async handle(ctx) {
    const p = ctx.params;
    const set = await ctx.db.responseSet.findUnique({ where: { id: p.responseSetId }, include: { subject: true } });
    if (!set) throw new RunInputError(`Response set ${p.responseSetId} no longer exists`);
    const mark = (data: { status: SetStatus; error: string | null }) => ctx.db.responseSet.update({ where: { id: set.id }, data });
    return importing(ctx, p, set.stimulusSetId, mark, (source, artifact, nStimuli) =>
      summariseResponses(ctx, source, {
        setId: set.id,
        nStimuli,
        nVoxels: set.subject.nVoxels,
        name: artifact.filename,
        splitHalfSplits: p.splitHalfSplits,
        splitHalfSeed: p.splitHalfSeed,
      }),
    );
  },
});

/**
 * The frame both imports share: the set is IMPORTING while the array is read, FAILED with the
 * reason when the array is bad (a retry of a transient error leaves it IMPORTING).
 */
async function importing(
  ctx: JobContext,
  array: { artifactId: string; npzMember: string | null },
  stimulusSetId: string,
  mark: (data: { status: SetStatus; error: string | null }) => Promise<unknown>,
  work: (source: ArraySource, artifact: Artifact, nStimuli: number) => Promise<JobResult>,
): Promise<JobResult> {
  const nStimuli = await ctx.db.stimulus.count({ where: { stimulusSetId } });
  const artifact = await loadArtifact(ctx, array.artifactId);
  await mark({ status: 'IMPORTING', error: null });
  try {
    const source = await openArraySource(ctx.store, artifact, array.npzMember);
    try {
      return await work(source, artifact, nStimuli);
    } finally {
      await source.close();
    }
  } catch (caught) {
    // A malformed array or archive found while streaming is bad input like any other.
    const err = caught instanceof NpyFormatError || caught instanceof NpzFormatError ? new RunInputError(`${artifact.filename}: ${caught.message}`) : caught;
    if (err instanceof RunInputError) await mark({ status: 'FAILED', error: err.message });
    throw err;
  }
}

export async function summariseResponses(
  ctx: JobContext,
  source: ArraySource,
  expect: { setId: string; nStimuli: number; nVoxels: number; name: string; splitHalfSplits: number; splitHalfSeed: number },
): Promise<JobResult> {
  checkNumeric(source, expect.name);
  const shape = source.header.shape;
  if (shape.length !== 2 && shape.length !== 3)
    throw new RunInputError(`${expect.name} has shape ${formatShape(shape)}; expected [n_stimuli, n_voxels] or [n_repeats, n_stimuli, n_voxels]`);
  const [nRepeats, nStimuli, nVoxels] = shape.length === 3 ? shape : [1, shape[0], shape[1]];
  if (nStimuli !== expect.nStimuli)
    throw new RunInputError(`${expect.name} has ${nStimuli} stimulus rows (shape ${formatShape(shape)}) but the stimulus set has ${expect.nStimuli} stimuli`);
  if (nVoxels !== expect.nVoxels)
    throw new RunInputError(`${expect.name} has ${nVoxels} voxel columns (shape ${formatShape(shape)}) but the subject has ${expect.nVoxels} voxels`);

  const moments = new VoxelMomentsAccumulator(nVoxels);
  const spread = nRepeats >= 2 ? new RepeatVariance(nVoxels, nRepeats) : undefined;
  const splits = nRepeats >= 2 && expect.splitHalfSplits > 0 ? drawSplits(nRepeats, expect.splitHalfSplits, expect.splitHalfSeed) : null;
  const halves = splits ? new SplitHalfAccumulator(nVoxels, nRepeats, splits) : undefined;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / (nRepeats * nVoxels * 4)));
  // One reader per repeat, advanced in lockstep: each step holds the same stimuli of every repeat.
  const readers = Array.from({ length: nRepeats }, (_, r) => readSlabRows(source, r * nStimuli * nVoxels, nStimuli, nVoxels, rowsPerChunk));
  try {
    let done = 0;
    for (;;) {
      const steps = await Promise.all(readers.map((it) => it.next()));
      if (steps[0].done) break;
      const chunks = steps.map((s, r) => {
        if (s.done) throw new RunInputError(`${expect.name}: repeat ${r} ended early`);
        rejectNonFinite(s.value.data, s.value.start, nVoxels, expect.name, (row) => (nRepeats > 1 ? `repeat ${r}, stimulus row ${row}` : `stimulus row ${row}`));
        moments.push(s.value.data);
        return s.value;
      });
      spread?.add(chunks.map((c) => c.data), chunks[0].count);
      halves?.add(chunks.map((c) => c.data), chunks[0].count);
      done += chunks[0].count;
      await ctx.progress((0.9 * done) / nStimuli, `checked ${done} of ${nStimuli} stimuli`);
    }
  } finally {
    await Promise.all(readers.map((it) => it.return(undefined)));
  }

  const mean = moments.mean();
  // numpy's default (ddof 0) for the stored SD; the noise ceiling uses ddof 1 as NSD's z-scoring.
  const sd = moments.sd(0);
  const outputs: Record<string, string> = {
    voxelMean: await saveArray(ctx, mean, [nVoxels], 'voxel-mean.npy'),
    voxelSd: await saveArray(ctx, sd, [nVoxels], 'voxel-sd.npy'),
  };
  let noiseCeilingMedian: number | null = null;
  let nUndefinedCeiling: number | null = null;
  const constant = Array.from(sd).filter((s) => s === 0).length;
  if (spread) {
    // Scored data are averages over all repeats, so the ceiling is for nRepeats averaged trials.
    const nc = spread.noiseCeiling(moments.variance(1), nRepeats);
    outputs.noiseCeiling = await saveArray(ctx, nc.ncPercent, [nVoxels], 'noise-ceiling-percent.npy');
    outputs.ncsnr = await saveArray(ctx, nc.ncsnr, [nVoxels], 'ncsnr.npy');
    noiseCeilingMedian = nanMedian(nc.ncPercent);
    nUndefinedCeiling = nc.nUndefined;
  }
  let splitHalfMedian: number | null = null;
  if (halves) {
    // Spearman-Brown corrected to the full number of repeats, as Brain-Score/Algonauts normalise.
    const { r, spearmanBrown } = halves.result();
    outputs.splitHalf = await saveArray(ctx, spearmanBrown, [nVoxels], 'split-half-reliability.npy');
    outputs.splitHalfR = await saveArray(ctx, r, [nVoxels], 'split-half-r.npy');
    splitHalfMedian = nanMedian(spearmanBrown);
    ctx.recordProvenance({ splitHalf: { splits: splits!.length, seed: expect.splitHalfSeed } });
  }
  ctx.recordProvenance({ shape, constantVoxels: constant });
  await ctx.progress(1, 'summaries stored');
  return {
    outputs,
    commit: async (tx) => {
      await tx.responseSet.update({
        where: { id: expect.setId },
        data: {
          status: 'READY',
          nRepeats: shape.length === 3 ? nRepeats : null,
          meanArtifactId: outputs.voxelMean,
          sdArtifactId: outputs.voxelSd,
          noiseCeilingArtifactId: outputs.noiseCeiling ?? null,
          ncsnrArtifactId: outputs.ncsnr ?? null,
          noiseCeilingMedian: Number.isFinite(noiseCeilingMedian) ? noiseCeilingMedian : null,
          nUndefinedCeiling,
          splitHalfArtifactId: outputs.splitHalf ?? null,
          splitHalfMedian: Number.isFinite(splitHalfMedian) ? splitHalfMedian : null,
          splitHalfSplits: splits ? splits.length : null,
          error: null,
        },
      });
    },
  };
}

export const importFeatures = defineJob({
  kind: 'IMPORT_FEATURES',
  params: importFeaturesParams,
  handle: checkFeatureArray,
});

async function checkFeatureArray(ctx: ParsedJobContext<z.output<typeof importFeaturesParams>>): Promise<JobResult> {
  const p = ctx.params;
  const set = await ctx.db.featureSet.findUnique({ where: { id: p.featureSetId }, include: { model: true } });
  if (!set) throw new RunInputError(`Feature set ${p.featureSetId} no longer exists`);
  const mark = (data: { status: SetStatus; error: string | null }) => ctx.db.featureSet.update({ where: { id: set.id }, data });
  return importing(ctx, p, set.stimulusSetId, mark, async (source, artifact, nStimuli) => {
    const name = artifact.filename;
    checkNumeric(source, name);
    const shape = source.header.shape;
    if (shape.length !== 2) throw new RunInputError(`${name} has shape ${formatShape(shape)}; features must be [n_stimuli, d]`);
    const [rows, dim] = shape;
    if (rows !== nStimuli)
      throw new RunInputError(`${name} has ${rows} stimulus rows (shape ${formatShape(shape)}) but the stimulus set has ${nStimuli} stimuli`);
    if (set.model.featureWidth != null && dim !== set.model.featureWidth)
      throw new RunInputError(`${name} has width ${dim} but model ${set.model.name} declares featureWidth ${set.model.featureWidth}`);
    const moments = new VoxelMomentsAccumulator(dim);
    for await (const chunk of readSlabRows(source, 0, rows, dim)) {
      rejectNonFinite(chunk.data, chunk.start, dim, name, (row) => `stimulus row ${row}`);
      moments.push(chunk.data);
      await ctx.progress((chunk.start + chunk.count) / rows, `checked ${chunk.start + chunk.count} of ${rows} stimuli`);
    }
    const constant = Array.from(moments.sd(0)).filter((sd) => sd === 0).length;
    ctx.recordProvenance({ shape, constantFeatures: constant });
    return {
      commit: async (tx) => {
        await tx.featureSet.update({ where: { id: set.id }, data: { status: 'READY', dim, error: null } });
      },
    };
  });
}
