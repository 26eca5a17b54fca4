// Subjects in brain space: a subject created from a brain mask volume keeps the volume's shape
// and affine, and its voxels are the mask's voxels in C order over (x, y, z); ROIs come from
// binary mask volumes or from a label volume with its label table. Masks and label volumes are
// single 3D volumes (a few MB even at NSD's 1.8 mm), read as a stream.
import { badInput } from '../errors';
import type { Artifact } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { encodeNpy, readPrefix } from '../storage';
import { affineDistance, formatAffine, NiftiFormatError, readSingleVolume, type Affine } from '../storage/nifti';
import { parseLabelTable } from '../storage/nifti/label-table';
import { assertCanWrite } from './access';
import { inputArtifact, storeArtifact } from './artifacts';
import { labelMismatch, maskVoxels, nonBinaryValues, roiFromMask, roisFromLabels, voxelLookup, type RoiPlacement } from './brain-volumes';
import { LIMITS, visibleDataset, writing } from './catalog';
import { requireName, requireUnique } from './validate';

/** Affines equal within this many mm count as the same space (float32 header rounding). */
const AFFINE_TOLERANCE_MM = 1e-3;
const LABEL_TABLE_MAX_BYTES = 1 << 20;

export interface BrainVolume {
  artifact: Artifact;
  name: string;
  shape: [number, number, number];
  affine: Affine;
  data: Float32Array;
}

/** Reads a NIfTI artifact as one 3D volume; format errors become BAD_USER_INPUT on `field`. */
export async function readVolumeArtifact(ctx: DomainContext, id: string, field: string): Promise<BrainVolume> {
  const artifact = await inputArtifact(ctx, id, field);
  const name = artifact.filename || artifact.sha256;
  try {
    const { header, shape, data } = await readSingleVolume(await ctx.services.store.get(artifact.sha256), name);
    return { artifact, name, shape, affine: header.affine, data };
  } catch (err) {
    if (err instanceof NiftiFormatError) throw badInput(err.message, field, { file: err.file, headerField: err.field, ...err.values });
    throw err;
  }
}

/** Refuses a volume whose grid differs from the reference's, with both shapes or affines. */
export function requireSameSpace(ref: { name: string; shape: number[]; affine: Affine }, other: BrainVolume, field: string) {
  if (ref.shape.join() !== other.shape.join())
    throw badInput(`${other.name} has shape [${other.shape.join(', ')}] but ${ref.name} has shape [${ref.shape.join(', ')}]; both must be on the same voxel grid`, field, {
      expected: ref.shape,
      found: other.shape,
    });
  const distance = affineDistance(ref.affine, other.affine);
  if (distance > AFFINE_TOLERANCE_MM)
    throw badInput(
      `${other.name} has affine ${formatAffine(other.affine)} but ${ref.name} has ${formatAffine(ref.affine)} (they differ by up to ${distance.toPrecision(3)} mm); resample it onto the subject's grid`,
      field,
      { expected: ref.affine, found: other.affine },
    );
}

function requireBinary(volume: BrainVolume, field: string) {
  const odd = nonBinaryValues(volume.data);
  if (odd.length)
    throw badInput(`${volume.name} is not a binary mask: it holds ${odd.join(', ')} besides 0 and 1 (threshold it, or pass it as a label volume with a table)`, field, {
      values: odd,
    });
}

export interface SubjectFromMaskInput {
  datasetId: string;
  name: string;
  maskArtifactId: string;
  roiMasks?: { name: string; artifactId: string }[] | null;
  roiAtlases?: { labelsArtifactId: string; tableArtifactId: string }[] | null;
}

export async function createSubjectFromMask(ctx: DomainContext, input: SubjectFromMaskInput) {
  const dataset = await visibleDataset(ctx, input.datasetId);
  assertCanWrite(ctx.viewer, dataset.labId);
  const name = requireName(input.name, 'name');
  const mask = await readVolumeArtifact(ctx, input.maskArtifactId, 'maskArtifactId');
  requireBinary(mask, 'maskArtifactId');
  const { flat, ijk } = maskVoxels(mask.data, mask.shape);
  if (flat.length === 0) throw badInput(`${mask.name} selects no voxel (every value is 0)`, 'maskArtifactId');
  if (flat.length > LIMITS.voxelsPerSubject)
    throw badInput(`${mask.name} selects ${flat.length} voxels; at most ${LIMITS.voxelsPerSubject} per subject`, 'maskArtifactId');
  const lookup = voxelLookup(flat, mask.data.length);

  const rois: RoiPlacement[] = [];
  for (const [i, roi] of (input.roiMasks ?? []).entries()) {
    const field = `roiMasks[${i}].artifactId`;
    const volume = await readVolumeArtifact(ctx, roi.artifactId, field);
    requireSameSpace(mask, volume, field);
    requireBinary(volume, field);
    rois.push(roiFromMask(requireName(roi.name, `roiMasks[${i}].name`), volume.data, lookup));
  }
  for (const [i, atlas] of (input.roiAtlases ?? []).entries()) {
    const field = `roiAtlases[${i}]`;
    const labels = await readVolumeArtifact(ctx, atlas.labelsArtifactId, `${field}.labelsArtifactId`);
    requireSameSpace(mask, labels, `${field}.labelsArtifactId`);
    const tableArtifact = await inputArtifact(ctx, atlas.tableArtifactId, `${field}.tableArtifactId`);
    const tableName = tableArtifact.filename || tableArtifact.sha256;
    let table;
    try {
      const text = (await readPrefix(await ctx.services.store.get(tableArtifact.sha256), LABEL_TABLE_MAX_BYTES)).toString('utf8');
      table = parseLabelTable(text, tableName);
    } catch (err) {
      if (err instanceof NiftiFormatError) throw badInput(err.message, `${field}.tableArtifactId`, { file: err.file });
      throw err;
    }
    const mismatch = labelMismatch(labels.data, table);
    if (mismatch.nonInteger !== null)
      throw badInput(`${labels.name} holds ${mismatch.nonInteger}, not an integer label`, `${field}.labelsArtifactId`, { value: mismatch.nonInteger });
    if (mismatch.unnamed.length)
      throw badInput(`${labels.name} holds label(s) ${mismatch.unnamed.join(', ')} that ${tableName} does not name`, `${field}.tableArtifactId`, {
        unnamed: mismatch.unnamed,
      });
    if (mismatch.absent.length)
      throw badInput(
        `${tableName} names label(s) ${mismatch.absent.map((k) => `${k} (${table.get(k)})`).join(', ')} that ${labels.name} does not hold`,
        `${field}.tableArtifactId`,
        { absent: mismatch.absent },
      );
    rois.push(...roisFromLabels(labels.data, table, lookup));
  }
  if (rois.length > LIMITS.roisPerSubject) throw badInput(`At most ${LIMITS.roisPerSubject} ROIs per subject`, 'roiMasks');
  requireUnique(rois.map((r) => r.name), 'rois.name');
  const empty = rois.find((r) => r.voxelIndices.length === 0);
  if (empty)
    throw badInput(`ROI ${empty.name} has no voxel inside ${mask.name} (${empty.outsideMask} voxel(s) lie outside the mask)`, 'roiMasks', {
      roi: empty.name,
      outsideMask: empty.outsideMask,
    });

  // Content-addressed: storing before the row exists leaves at most an unreferenced duplicate.
  const coordinates = await storeArtifact(ctx.services, encodeNpy({ dtype: '<i4', shape: [flat.length, 3], data: ijk }), {
    filename: `${name}-voxel-ijk.npy`,
    labId: dataset.labId,
    dtype: '<i4',
    shape: [flat.length, 3],
  });
  const subject = await writing(`A subject named ${JSON.stringify(name)} in this dataset`, () =>
    ctx.db.subject.create({
      data: {
        datasetId: dataset.id,
        name,
        nVoxels: flat.length,
        spaceShape: mask.shape,
        spaceAffine: mask.affine,
        maskArtifactId: mask.artifact.id,
        coordinatesArtifactId: coordinates.id,
        rois: { create: rois.map((r) => ({ name: r.name, voxelIndices: r.voxelIndices })) },
      },
    }),
  );
  return { subject, rois: rois.map((r) => ({ name: r.name, nVoxels: r.voxelIndices.length, outsideMask: r.outsideMask })) };
}

/** The subject's brain space as GraphQL shows it, or null for subjects without one. */
export function brainSpace(subject: { spaceShape: number[]; spaceAffine: number[]; maskArtifactId: string | null }) {
  if (subject.spaceShape.length !== 3 || subject.spaceAffine.length !== 16) return null;
  const a = subject.spaceAffine;
  return { shape: subject.spaceShape, affine: [0, 1, 2, 3].map((r) => a.slice(4 * r, 4 * r + 4)), maskArtifactId: subject.maskArtifactId };
}
