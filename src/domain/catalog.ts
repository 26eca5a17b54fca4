// Registering and looking up datasets, subjects, ROIs, stimulus sets and models.
// Visibility is decided by the owning object (a subject is visible when its dataset is).
import type { DomainContext } from './context';
import { plainLookups } from './lookups';
import { badInput, conflict, fromPrismaError } from '../errors';
import type { ModelKind, Visibility } from '../generated/prisma/client';
import { readableWhere } from '../access/readability';
import { assertCanWrite, targetLab, visibleOrThrow } from './access';
import { inputArtifact } from './artifacts';
import { checkBackbone } from './backbones';
import { checkInContextEncoder } from './in-context';
import { likeLiteral } from '../text/like-pattern';
import { optionalDescription, requireName, requirePositiveInt, requireUnique, requireUuid } from './validate';

/** Upper bounds that keep a single request from exhausting the API. */
export const LIMITS = { stimuliPerSet: 200_000, voxelsPerSubject: 2_000_000, roisPerSubject: 1_000 };

export async function visibleDataset(ctx: DomainContext, id: string) {
  const row = await plainLookups(ctx).dataset.load(requireUuid(id, 'id'));
  return visibleOrThrow(ctx.viewer, 'Dataset', id, row);
}

export async function visibleSubject(ctx: DomainContext, id: string) {
  const subject = await plainLookups(ctx).subject.load(requireUuid(id, 'subjectId'));
  const dataset = subject && (await plainLookups(ctx).dataset.load(subject.datasetId));
  visibleOrThrow(ctx.viewer, 'Subject', id, dataset);
  return { subject: subject!, dataset: dataset! };
}

export async function visibleStimulusSet(ctx: DomainContext, id: string) {
  const set = await plainLookups(ctx).stimulusSet.load(requireUuid(id, 'stimulusSetId'));
  const dataset = set && (await plainLookups(ctx).dataset.load(set.datasetId));
  visibleOrThrow(ctx.viewer, 'Stimulus set', id, dataset);
  return { stimulusSet: set!, dataset: dataset! };
}

export async function visibleModel(ctx: DomainContext, id: string) {
  const row = await plainLookups(ctx).model.load(requireUuid(id, 'modelId'));
  return visibleOrThrow(ctx.viewer, 'Model', id, row);
}

/** Runs a write, turning unique-key violations into CONFLICT with a readable message. */
export async function writing<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const mapped = fromPrismaError(err);
    if (mapped?.code === 'CONFLICT') throw conflict(`${what} already exists`, mapped.extensions);
    throw mapped ?? err;
  }
}

export function datasetsWhere(ctx: DomainContext, filter?: { nameContains?: string | null; labId?: string | null; visibility?: Visibility | null } | null) {
  return {
    AND: [
      readableWhere(ctx.viewer),
      filter?.nameContains ? { name: { contains: likeLiteral(filter.nameContains), mode: 'insensitive' } } : {},
      filter?.labId ? { labId: requireUuid(filter.labId, 'filter.labId') } : {},
      filter?.visibility ? { visibility: filter.visibility } : {},
    ],
  };
}

export async function createDataset(
  ctx: DomainContext,
  input: { name: string; description?: string | null; visibility?: Visibility | null; labId?: string | null },
) {
  const labId = targetLab(ctx.viewer, input.labId);
  const name = requireName(input.name, 'name');
  return writing(`A dataset named ${JSON.stringify(name)} in this lab`, () =>
    ctx.db.dataset.create({
      data: { labId, name, description: optionalDescription(input.description, 'description'), visibility: input.visibility ?? 'PRIVATE' },
    }),
  );
}

export async function createSubject(
  ctx: DomainContext,
  input: { datasetId: string; name: string; nVoxels: number; rois?: { name: string; voxelIndices: number[] }[] | null },
) {
  const dataset = await visibleDataset(ctx, input.datasetId);
  assertCanWrite(ctx.viewer, dataset.labId);
  const name = requireName(input.name, 'name');
  const nVoxels = requirePositiveInt(input.nVoxels, 'nVoxels', LIMITS.voxelsPerSubject);
  const rois = input.rois ?? [];
  if (rois.length > LIMITS.roisPerSubject) throw badInput(`At most ${LIMITS.roisPerSubject} ROIs per subject`, 'rois');
  requireUnique(rois.map((r) => r.name), 'rois.name');
  rois.forEach((roi, i) => checkRoi(roi, nVoxels, `rois[${i}]`));
  return writing(`A subject named ${JSON.stringify(name)} in this dataset`, () =>
    ctx.db.subject.create({
      data: {
        datasetId: dataset.id,
        name,
        nVoxels,
        rois: { create: rois.map((r) => ({ name: requireName(r.name, 'rois.name'), voxelIndices: r.voxelIndices })) },
      },
    }),
  );
}

function checkRoi(roi: { name: string; voxelIndices: number[] }, nVoxels: number, field: string) {
  if (roi.voxelIndices.length === 0) throw badInput(`${field}.voxelIndices is empty`, `${field}.voxelIndices`);
  const seen = new Set<number>();
  roi.voxelIndices.forEach((v, j) => {
    if (!Number.isInteger(v) || v < 0 || v >= nVoxels)
      throw badInput(`${field}.voxelIndices[${j}] = ${v} is outside 0..${nVoxels - 1} (the subject has ${nVoxels} voxels)`, `${field}.voxelIndices[${j}]`);
    if (seen.has(v)) throw badInput(`${field}.voxelIndices[${j}] repeats voxel ${v}`, `${field}.voxelIndices[${j}]`);
    seen.add(v);
  });
}

export async function createStimulusSet(
  ctx: DomainContext,
  input: {
    datasetId: string;
    name: string;
    description?: string | null;
    stimuli: { externalId: string; concepts?: string[] | null; caption?: string | null }[];
  },
) {
  const dataset = await visibleDataset(ctx, input.datasetId);
  assertCanWrite(ctx.viewer, dataset.labId);
  const name = requireName(input.name, 'name');
  if (input.stimuli.length === 0) throw badInput('A stimulus set needs at least one stimulus', 'stimuli');
  if (input.stimuli.length > LIMITS.stimuliPerSet)
    throw badInput(`At most ${LIMITS.stimuliPerSet} stimuli per set (got ${input.stimuli.length})`, 'stimuli');
  const ids = input.stimuli.map((s, i) => requireName(s.externalId, `stimuli[${i}].externalId`));
  requireUnique(ids, 'stimuli.externalId');
  return writing(`A stimulus set named ${JSON.stringify(name)} in this dataset`, () =>
    ctx.db.$transaction(async (tx) => {
      const set = await tx.stimulusSet.create({ data: { datasetId: dataset.id, name, description: optionalDescription(input.description, 'description') } });
      // createMany in chunks keeps each statement under PostgreSQL's parameter limit.
      for (let start = 0; start < ids.length; start += 5000) {
        await tx.stimulus.createMany({
          data: input.stimuli.slice(start, start + 5000).map((s, j) => ({
            stimulusSetId: set.id,
            position: start + j,
            externalId: ids[start + j],
            concepts: s.concepts ?? [],
            caption: s.caption ?? null,
          })),
        });
      }
      return set;
    }, { timeout: 60_000 }),
  );
}

export async function registerModel(
  ctx: DomainContext,
  input: {
    name: string;
    kind: ModelKind;
    family?: string | null;
    description?: string | null;
    featureWidth?: number | null;
    artifactId?: string | null;
    backboneId?: string | null;
    visibility?: Visibility | null;
    labId?: string | null;
    preprocessing?: unknown;
    pooling?: unknown;
  },
) {
  const labId = targetLab(ctx.viewer, input.labId);
  const name = requireName(input.name, 'name');
  if (input.featureWidth != null) requirePositiveInt(input.featureWidth, 'featureWidth', 1 << 20);
  if (input.backboneId) await visibleModel(ctx, input.backboneId);
  if (input.artifactId) {
    await inputArtifact(ctx, input.artifactId, 'artifactId');
  }
  // An in-context encoder is checked against its ONNX contract (and dry-run) before it is listed.
  const featureWidth = input.kind === 'IN_CONTEXT_ENCODER' ? await checkInContextEncoder(ctx, input) : (input.featureWidth ?? null);
  // A backbone with its ONNX file is checked and dry-run; its layers and preprocessing are kept.
  if ((input.preprocessing != null || input.pooling != null) && !(input.kind === 'BACKBONE' && input.artifactId))
    throw badInput('preprocessing and pooling belong to a BACKBONE registered with its ONNX artifactId', input.preprocessing != null ? 'preprocessing' : 'pooling');
  const backbone = input.kind === 'BACKBONE' && input.artifactId ? await checkBackbone(ctx, input) : null;
  return writing(`A model named ${JSON.stringify(name)} in this lab`, () =>
    ctx.db.model.create({
      data: {
        labId,
        name,
        kind: input.kind,
        family: input.family ?? '',
        description: optionalDescription(input.description, 'description'),
        featureWidth,
        artifactId: input.artifactId ?? null,
        backboneId: input.backboneId ?? null,
        ...(backbone ? { layers: backbone.layers as object[], preprocessing: backbone.preprocessing as object } : {}),
        visibility: input.visibility ?? 'PRIVATE',
      },
    }),
  );
}
