// Importing responses from session files: what can be checked before queueing is checked here
// (the subject has a brain space, every design names known stimuli and gives each image enough
// presentations, NIfTI headers match the subject's grid and hold the design's trials); the
// IMPORT_SESSIONS run then streams the sessions (src/jobs/import-sessions.ts).
import { badInput, conflict } from '../errors';
import type { Artifact } from '../generated/prisma/client';
import { importSessions, isHdf5, readDesign } from '../jobs/import-sessions';
import type { DomainContext } from './context';
import { readPrefix } from '../storage';
import { affineDistance, formatAffine, NiftiFormatError, openNifti } from '../storage/nifti';
import { assertCanWrite } from './access';
import { inputArtifact } from './artifacts';
import { visibleStimulusSet, visibleSubject } from './catalog';
import { splitHalfParams } from './imports';
import { submitRun } from './runs';
import { DesignError, planRepeats } from './session-design';

export const MAX_SESSIONS = 200;
const AFFINE_TOLERANCE_MM = 1e-3;

export interface ImportResponseSessionsInput {
  subjectId: string;
  stimulusSetId: string;
  name?: string | null;
  sessions: { betasArtifactId: string; designArtifactId: string; hdf5Dataset?: string | null; designSession?: string | null }[];
  zscore?: boolean | null;
  nRepeats?: number | null;
  hdf5Scale?: number | null;
  splitHalfSplits?: number | null;
  splitHalfSeed?: number | null;
  idempotencyKey?: string | null;
}

/** A NIfTI session's header against the subject's grid and its design; HDF5 sessions are checked by the run. */
async function checkNiftiHeader(ctx: DomainContext, artifact: Artifact, subject: { spaceShape: number[]; spaceAffine: number[] }, trials: number, field: string, first: { name: string; shape: number[] } | null) {
  const head = await readPrefix(await ctx.services.store.getRange(artifact.sha256, 0, Math.min(8, Number(artifact.size))), 8);
  if (isHdf5(head)) return null;
  const name = artifact.filename || artifact.sha256;
  let reader;
  try {
    reader = await openNifti(await ctx.services.store.get(artifact.sha256), name);
  } catch (err) {
    if (err instanceof NiftiFormatError) throw badInput(err.message, field, { file: err.file, headerField: err.field, ...err.values });
    throw err;
  }
  reader.close();
  const { header, shape3d, nVolumes } = reader;
  if (first && first.shape.join() !== shape3d.join())
    throw badInput(`${name} holds volumes of shape [${shape3d.join(', ')}] but ${first.name} holds [${first.shape.join(', ')}]; every session must be on the same grid`, field, {
      file: name,
      expected: first.shape,
      found: shape3d,
    });
  if (subject.spaceShape.join() !== shape3d.join())
    throw badInput(`${name} holds volumes of shape [${shape3d.join(', ')}] but the subject's space is [${subject.spaceShape.join(', ')}]`, field, {
      file: name,
      expected: subject.spaceShape,
      found: shape3d,
    });
  const distance = affineDistance(subject.spaceAffine, header.affine);
  if (distance > AFFINE_TOLERANCE_MM)
    throw badInput(
      `${name} has affine ${formatAffine(header.affine)} but the subject's space has ${formatAffine(subject.spaceAffine)} (they differ by up to ${distance.toPrecision(3)} mm); resample it onto the subject's grid`,
      field,
      { file: name, expected: subject.spaceAffine, found: header.affine },
    );
  if (trials > nVolumes) throw badInput(`The design lists ${trials} trials but ${name} holds ${nVolumes} volumes (header dim [${header.dims.join(', ')}])`, field, { file: name, trials, volumes: nVolumes });
  // Uncompressed files must hold the bytes their header promises.
  const bytes = header.voxOffset + nVolumes * shape3d[0] * shape3d[1] * shape3d[2] * header.datatype.bytes;
  const compressed = head[0] === 0x1f && head[1] === 0x8b;
  if (!compressed && Number(artifact.size) < bytes)
    throw badInput(`${name}: header dim [${header.dims.join(', ')}] of ${header.datatype.name} promises ${bytes} bytes but the file has ${artifact.size}`, field, {
      file: name,
      headerField: 'dim',
      dim: header.dims,
    });
  return { name, shape: shape3d };
}

export async function importResponseSessions(ctx: DomainContext, input: ImportResponseSessionsInput) {
  const splitHalf = splitHalfParams(input);
  const { subject, dataset } = await visibleSubject(ctx, input.subjectId);
  assertCanWrite(ctx.viewer, dataset.labId);
  const { stimulusSet } = await visibleStimulusSet(ctx, input.stimulusSetId);
  if (stimulusSet.datasetId !== subject.datasetId) throw badInput('The stimulus set belongs to a different dataset than the subject', 'stimulusSetId');
  if (subject.spaceShape.length !== 3 || !subject.maskArtifactId)
    throw badInput(`Subject ${subject.name} has no brain space; create it from a mask volume (createSubjectFromMask) to import session volumes`, 'subjectId');
  if (input.sessions.length < 1 || input.sessions.length > MAX_SESSIONS) throw badInput(`Give from 1 to ${MAX_SESSIONS} sessions; got ${input.sessions.length}`, 'sessions');
  if (input.nRepeats != null && (!Number.isInteger(input.nRepeats) || input.nRepeats < 1 || input.nRepeats > 100))
    throw badInput(`nRepeats must be an integer from 1 to 100; got ${input.nRepeats}`, 'nRepeats');
  const hdf5Scale = input.hdf5Scale ?? 300;
  if (!(hdf5Scale > 0) || !Number.isFinite(hdf5Scale)) throw badInput(`hdf5Scale must be a finite number > 0; got ${hdf5Scale}`, 'hdf5Scale');
  const name = input.name?.trim() || 'betas';

  const stimuli = (await ctx.db.stimulus.findMany({ where: { stimulusSetId: stimulusSet.id }, orderBy: { position: 'asc' }, select: { externalId: true } })).map((s) => s.externalId);
  const designs = [];
  const sessions = [];
  let first: { name: string; shape: number[] } | null = null;
  for (const [i, s] of input.sessions.entries()) {
    const betas = await inputArtifact(ctx, s.betasArtifactId, `sessions[${i}].betasArtifactId`);
    const designArtifact = await inputArtifact(ctx, s.designArtifactId, `sessions[${i}].designArtifactId`);
    let design;
    try {
      design = await readDesign(ctx.services.store, designArtifact, s.designSession?.trim() || null);
    } catch (err) {
      if (err instanceof DesignError) throw badInput(err.message, `sessions[${i}].designArtifactId`, { file: err.file, ...err.values });
      throw err;
    }
    designs.push(design);
    first = (await checkNiftiHeader(ctx, betas, subject, design.trials.length, `sessions[${i}].betasArtifactId`, first)) ?? first;
    sessions.push({ betasArtifactId: betas.id, designArtifactId: designArtifact.id, hdf5Dataset: s.hdf5Dataset?.trim() || 'betas', designSession: s.designSession?.trim() || null });
  }
  let plan;
  try {
    plan = planRepeats(designs, stimuli, input.nRepeats);
  } catch (err) {
    if (err instanceof DesignError) {
      const at = designs.findIndex((d) => d.file === err.file);
      throw badInput(err.message, at >= 0 ? `sessions[${at}].designArtifactId` : input.nRepeats ? 'nRepeats' : 'sessions', { file: err.file, ...err.values });
    }
    throw err;
  }

  const params = importSessions.params.parse({
    responseSetId: '00000000-0000-4000-8000-000000000000',
    subjectId: subject.id,
    stimulusSetId: stimulusSet.id,
    sessions,
    zscore: input.zscore ?? true,
    nRepeats: plan.nRepeats,
    hdf5Scale,
    ...splitHalf,
  });
  const { responseSetId: _placeholder, ...queued } = params;
  let responseSetId = '';
  const { run } = await submitRun(
    ctx, importSessions,
    {
      labId: dataset.labId,
      params: { ...queued, name },
      idempotencyKey: input.idempotencyKey,
      subjectId: subject.id,
      inputs: { datasetIds: [dataset.id], modelIds: [], runIds: [] },
    },
    async (tx, p) => {
      const existing = await tx.responseSet.findUnique({ where: { subjectId_stimulusSetId_name: { subjectId: subject.id, stimulusSetId: stimulusSet.id, name } } });
      if (existing && existing.status !== 'FAILED')
        throw conflict(`Subject ${subject.name} already has a response set ${JSON.stringify(name)} for this stimulus set (${existing.status})`, { responseSetId: existing.id });
      const set = existing
        ? await tx.responseSet.update({ where: { id: existing.id }, data: { status: 'PENDING', error: null, artifactId: null } })
        : await tx.responseSet.create({ data: { subjectId: subject.id, stimulusSetId: stimulusSet.id, name } });
      responseSetId = set.id;
      return { ...p, responseSetId: set.id };
    },
  );
  const responseSet = await ctx.db.responseSet.findUniqueOrThrow({ where: { id: responseSetId || importSessions.params.parse(run.params).responseSetId } });
  return { responseSet, run, nRepeats: plan.nRepeats, extraPresentations: plan.extraPresentations };
}
