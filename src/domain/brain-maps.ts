// Brain maps: any per-voxel array (a run output, a response set's noise ceiling ...) shown in the
// subject's brain space. Rendering reads the array and the subject's voxel coordinates, writes a
// float32 NIfTI (brain-map-volume.ts) and records it, so each (array, subject, row) is rendered
// once; the volume itself is a content-addressed artifact like every other.
import { Prisma, type Artifact, type BrainMapRender, type Run, type Subject } from '../generated/prisma/client';
import { badInput } from '../errors';
import type { DomainContext } from './context';
import { plainLookups, type Lookups } from './lookups';
import { bytesToTypedArray, decodeNpy, parseNpyHeader, toFloat32, typedArrayToFloat32 } from '../storage';
import { readableSql } from '../access/readability';
import { readParams } from '../jobs/registry';
import { inputArtifact, storeArtifact } from './artifacts';
import { brainMapNifti, finiteRange } from './brain-map-volume';
import { visibleSubject } from './catalog';
import { requireUuid } from './validate';

/** What a BrainMap field resolves from. */
export interface BrainMapView {
  render: BrainMapRender;
  source: Artifact;
  subject: Subject;
  nRows: number;
}

export function hasSpace(subject: Pick<Subject, 'spaceShape' | 'spaceAffine' | 'coordinatesArtifactId'>): boolean {
  return subject.spaceShape.length === 3 && subject.spaceAffine.length === 16 && !!subject.coordinatesArtifactId;
}

/** Rows of an array that holds one value per subject voxel ([n_voxels] or [n_rows, n_voxels]); null otherwise. */
export function perVoxelRows(artifact: Pick<Artifact, 'dtype' | 'shape'>, nVoxels: number): number | null {
  if (!artifact.dtype) return null;
  const s = artifact.shape;
  if (s.length === 1 && s[0] === nVoxels) return 1;
  if (s.length === 2 && s[1] === nVoxels && s[0] >= 1) return s[0];
  return null;
}

async function readBytes(ctx: DomainContext, sha256: string, range?: { offset: number; length: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = range ? await ctx.services.store.getRange(sha256, range.offset, range.length) : await ctx.services.store.get(sha256);
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Enough of an .npy file for any header (they are padded to 64 bytes; large ones stay below this). */
const NPY_HEADER_PROBE = 64 * 1024;

/**
 * One row of a per-voxel array as float32, in subject voxel order. For a C-order array only that
 * row's bytes are read (one map of a [513, n_voxels] weights array, not all of it).
 */
export async function readMapRow(ctx: DomainContext, source: Artifact, nVoxels: number, row: number): Promise<Float32Array> {
  const size = Number(source.size);
  const header = parseNpyHeader(await readBytes(ctx, source.sha256, { offset: 0, length: Math.min(size, NPY_HEADER_PROBE) }), { fileSize: size });
  if (header.fortranOrder && header.shape.length > 1) {
    const values = toFloat32(decodeNpy(await readBytes(ctx, source.sha256)));
    return values.slice(row * nVoxels, (row + 1) * nVoxels);
  }
  const itemSize = header.dtype.itemSize;
  const bytes = await readBytes(ctx, source.sha256, { offset: header.dataOffset + row * nVoxels * itemSize, length: nVoxels * itemSize });
  return Float32Array.from(typedArrayToFloat32(bytesToTypedArray(bytes, header.dtype, { copy: true }), header.dtype));
}

export async function readVoxelIjk(ctx: DomainContext, subject: Subject, lookups: Lookups = plainLookups(ctx)): Promise<Int32Array> {
  const array = decodeNpy(await readBytes(ctx, (await lookups.artifact.load(subject.coordinatesArtifactId!))!.sha256), { copy: true });
  return Int32Array.from(array.data as ArrayLike<number>);
}

/** The subject's mask as one bit per grid point, C order over (i, j, k), most significant bit first. */
export function maskBits(shape: readonly number[], voxelIjk: Int32Array): Uint8Array {
  const [, ny, nz] = shape;
  const bits = new Uint8Array(Math.ceil((shape[0] * ny * nz) / 8));
  for (let v = 0; v < voxelIjk.length; v += 3) {
    const g = (voxelIjk[v] * ny + voxelIjk[v + 1]) * nz + voxelIjk[v + 2];
    bits[g >> 3] |= 0x80 >> (g & 7);
  }
  return bits;
}

/** Float32 values as little-endian bytes, whatever the host's byte order. */
export function float32Bytes(values: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], i * 4);
  return out;
}

function stem(filename: string): string {
  return (filename.replace(/\.npy$/, '') || 'map').replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * The map of `source` (already readable by the viewer) in `subject`'s space, rendered now unless
 * it was before. Refuses arrays that are not per-voxel for the subject, and rows out of range.
 */
export async function brainMapOf(ctx: DomainContext, source: Artifact, subject: Subject, row: number, fields = { artifact: 'artifactId', row: 'row' }): Promise<BrainMapView> {
  const nRows = perVoxelRows(source, subject.nVoxels);
  if (nRows === null)
    throw badInput(
      `${source.filename || source.sha256} has shape [${source.shape.join(', ')}]${source.dtype ? '' : ' (not an .npy array)'}; a brain map of subject ${subject.name} needs an array of shape [${subject.nVoxels}] or [n_rows, ${subject.nVoxels}]`,
      fields.artifact,
      { shape: source.shape, nVoxels: subject.nVoxels },
    );
  if (!Number.isInteger(row) || row < 0 || row >= nRows)
    throw badInput(`row ${row} is out of range: ${source.filename || source.sha256} has ${nRows} row(s) (0 to ${nRows - 1})`, fields.row, { row, nRows });
  const key = { sourceArtifactId: source.id, subjectId: subject.id, row };
  const found = await ctx.db.brainMapRender.findUnique({ where: { sourceArtifactId_subjectId_row: key } });
  if (found) return { render: found, source, subject, nRows };

  const values = await readMapRow(ctx, source, subject.nVoxels, row);
  const ijk = await readVoxelIjk(ctx, subject);
  const bytes = brainMapNifti({
    shape: subject.spaceShape,
    affine: subject.spaceAffine,
    ijk,
    values,
    description: `BrainAlign ${stem(source.filename)}${nRows > 1 ? ` row ${row}` : ''} ${subject.name}`,
  });
  const dataset = await plainLookups(ctx).dataset.load(subject.datasetId);
  const nifti = await storeArtifact(ctx.services, bytes, {
    filename: `${subject.name}-${stem(source.filename)}${nRows > 1 ? `-row${row}` : ''}.nii.gz`,
    labId: dataset?.labId ?? null,
    mediaType: 'application/gzip',
  });
  const range = finiteRange(values);
  try {
    const render = await ctx.db.brainMapRender.create({ data: { ...key, niftiArtifactId: nifti.id, ...range } });
    return { render, source, subject, nRows };
  } catch (err) {
    // Another request rendered the same map at the same time: the same bytes, keep its row.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')
      return { render: await ctx.db.brainMapRender.findUniqueOrThrow({ where: { sourceArtifactId_subjectId_row: key } }), source, subject, nRows };
    throw err;
  }
}

function requireSpace(subject: Subject): void {
  if (!hasSpace(subject))
    throw badInput(`Subject ${subject.name} has no brain space (it was created from a voxel count); create it from a mask with createSubjectFromMask`, 'subjectId', {
      subjectId: subject.id,
    });
}

export async function renderBrainMap(ctx: DomainContext, input: { artifactId: string; subjectId: string; row?: number | null }): Promise<BrainMapView> {
  const { subject } = await visibleSubject(ctx, input.subjectId);
  requireSpace(subject);
  const source = await inputArtifact(ctx, input.artifactId, 'artifactId');
  return brainMapOf(ctx, source, subject, input.row ?? 0);
}

/** The subject named in a run's parameters (imports record it there), read through its kind's schema. */
function paramSubject(run: Run): string | null {
  const params = readParams(run.kind, run.params);
  return params && 'subjectId' in params && typeof params.subjectId === 'string' ? params.subjectId : null;
}

/** A readable run's subject (an import's from its parameters), when it has a brain space. */
async function runSubject(run: Run, lookups: Lookups): Promise<Subject | null> {
  const id = run.subjectId ?? paramSubject(run);
  if (!id) return null;
  const subject = await lookups.subject.load(id);
  return subject && hasSpace(subject) ? subject : null;
}

async function runOutputArtifacts(run: Run, lookups: Lookups): Promise<{ name: string; artifact: Artifact }[]> {
  const entries = Object.entries((run.outputs ?? {}) as Record<string, string>);
  const artifacts = await Promise.all(entries.map(([, id]) => lookups.artifact.load(id)));
  return entries.flatMap(([name], i) => (artifacts[i] ? [{ name, artifact: artifacts[i]! }] : []));
}

export async function runBrainMapOutputs(ctx: DomainContext, run: Run, lookups: Lookups = plainLookups(ctx)): Promise<{ name: string; nRows: number }[]> {
  const subject = await runSubject(run, lookups);
  if (!subject) return [];
  return (await runOutputArtifacts(run, lookups)).flatMap(({ name, artifact }) => {
    const nRows = perVoxelRows(artifact, subject.nVoxels);
    return nRows === null ? [] : [{ name, nRows }];
  });
}

export async function runBrainMap(ctx: DomainContext, run: Run, output: string, row: number, lookups: Lookups = plainLookups(ctx)): Promise<BrainMapView | null> {
  const subject = await runSubject(run, lookups);
  if (!subject) return null;
  const outputs = await runOutputArtifacts(run, lookups);
  const found = outputs.find((o) => o.name === output);
  if (!found) throw badInput(`Run ${run.id} has no output ${JSON.stringify(output)}; it has ${outputs.map((o) => o.name).join(', ') || 'none'}`, 'output', { outputs: outputs.map((o) => o.name) });
  return brainMapOf(ctx, found.artifact, subject, row, { artifact: 'output', row: 'row' });
}

/**
 * The subject an artifact is a map of, when exactly one readable subject with a brain space holds
 * it (as a run output or a response set's array) and it is per-voxel for that subject.
 */
async function impliedSubject(ctx: DomainContext, artifact: Artifact, lookups: Lookups): Promise<Subject | null> {
  const id = artifact.id;
  const viewer = ctx.viewer;
  const rows = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT DISTINCT s.id FROM "Subject" s JOIN "Dataset" d ON d.id = s."datasetId"
    WHERE cardinality(s."spaceShape") = 3 AND ${readableSql(viewer, 'd')} AND (
      EXISTS (SELECT 1 FROM "Run" r WHERE r."subjectId" = s.id AND ${readableSql(viewer, 'r')}
              AND EXISTS (SELECT 1 FROM jsonb_each_text(r.outputs) o WHERE o.value = ${id}))
      OR EXISTS (SELECT 1 FROM "ResponseSet" rs WHERE rs."subjectId" = s.id
              AND ${id}::uuid IN (rs."artifactId", rs."meanArtifactId", rs."sdArtifactId", rs."noiseCeilingArtifactId", rs."splitHalfArtifactId")))
    LIMIT 2`;
  if (rows.length !== 1) return null;
  const subject = await lookups.subject.load(rows[0].id);
  return subject && hasSpace(subject) && perVoxelRows(artifact, subject.nVoxels) !== null ? subject : null;
}

/** Artifact.niftiUrl: the map's download URL, or null when the artifact is not a map of a subject in space. */
export async function artifactNiftiUrl(
  ctx: DomainContext,
  artifact: Artifact,
  args: { subjectId?: string | null; row?: number | null },
  lookups: Lookups = plainLookups(ctx),
): Promise<string | null> {
  let subject: Subject | null;
  if (args.subjectId) {
    subject = await lookups.subject.load(requireUuid(args.subjectId, 'subjectId'));
    if (!subject || !hasSpace(subject) || perVoxelRows(artifact, subject.nVoxels) === null) return null;
  } else subject = await impliedSubject(ctx, artifact, lookups);
  // The artifact was reached through a readable object, as every nested artifact field is.
  if (!subject) return null;
  const view = await brainMapOf(ctx, artifact, subject, args.row ?? 0);
  return niftiUrl(ctx, view, lookups);
}

const DOWNLOAD_TTL_S = 3600;

export async function niftiUrl(ctx: DomainContext, view: BrainMapView, lookups: Lookups = plainLookups(ctx)): Promise<string> {
  const nifti = (await lookups.artifact.load(view.render.niftiArtifactId))!;
  return ctx.services.store.presignDownload(nifti.sha256, nifti.filename || undefined, DOWNLOAD_TTL_S);
}
