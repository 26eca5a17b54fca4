// Registering a feature or response array: the set row and its IMPORT run are written together;
// the worker then checks the array against the catalog and marks the set READY.
import { badInput, conflict } from '../errors';
import type { Artifact } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { assertCanWrite } from './access';
import { inputArtifact } from './artifacts';
import { visibleModel, visibleStimulusSet, visibleSubject } from './catalog';
import { parseParams, submitRun } from './runs';
import { requireUuid } from './validate';
import { importFeatures, importResponses } from '../jobs/io/import-frame';

const loadArtifact = (ctx: DomainContext, id: string): Promise<Artifact> => inputArtifact(ctx, id, 'artifactId');

/** Checks what the .npy header already tells us, so obvious mistakes fail before queueing. */
function checkHeaderShape(artifact: Artifact, expected: { nStimuli: number; nVoxels?: number }, what: string) {
  if (!artifact.dtype || artifact.shape.length === 0) return; // .npz or unknown: the worker checks
  const shape = artifact.shape;
  const shown = `(${shape.join(', ')})`;
  if (!/^[<>|=]?[fiub]\d$/.test(artifact.dtype))
    throw badInput(`${what} must be a numeric array; ${artifact.filename || artifact.sha256} has dtype ${artifact.dtype}`, 'artifactId');
  if (expected.nVoxels === undefined) {
    if (shape.length !== 2) throw badInput(`${what} must have shape [n_stimuli, d]; got ${shown}`, 'artifactId');
  } else if (shape.length !== 2 && shape.length !== 3) {
    throw badInput(`${what} must have shape [n_stimuli, n_voxels] or [n_repeats, n_stimuli, n_voxels]; got ${shown}`, 'artifactId');
  }
  const rows = shape.length === 3 ? shape[1] : shape[0];
  if (rows !== expected.nStimuli)
    throw badInput(`${what} has ${rows} stimulus rows but the stimulus set has ${expected.nStimuli} stimuli; shape ${shown}`, 'artifactId');
  const cols = shape[shape.length - 1];
  if (expected.nVoxels !== undefined && cols !== expected.nVoxels)
    throw badInput(`${what} has ${cols} voxel columns but the subject has ${expected.nVoxels} voxels; shape ${shown}`, 'artifactId');
}

/** How many random splits the split-half reliability averages, and their seed (checked here, used by the import). */
export function splitHalfParams(input: { splitHalfSplits?: number | null; splitHalfSeed?: number | null }) {
  return parseParams(importResponses.params.pick({ splitHalfSplits: true, splitHalfSeed: true }), {
    ...(input.splitHalfSplits != null ? { splitHalfSplits: input.splitHalfSplits } : {}),
    ...(input.splitHalfSeed != null ? { splitHalfSeed: input.splitHalfSeed } : {}),
  });
}

export async function importResponseSet(
  ctx: DomainContext,
  input: {
    subjectId: string;
    stimulusSetId: string;
    name?: string | null;
    artifactId: string;
    npzMember?: string | null;
    splitHalfSplits?: number | null;
    splitHalfSeed?: number | null;
    idempotencyKey?: string | null;
  },
) {
  const splitHalf = splitHalfParams(input);
  const { subject, dataset } = await visibleSubject(ctx, input.subjectId);
  assertCanWrite(ctx.viewer, dataset.labId);
  const { stimulusSet } = await visibleStimulusSet(ctx, input.stimulusSetId);
  if (stimulusSet.datasetId !== subject.datasetId)
    throw badInput('The stimulus set belongs to a different dataset than the subject', 'stimulusSetId');
  const artifact = await loadArtifact(ctx, input.artifactId);
  const nStimuli = await ctx.db.stimulus.count({ where: { stimulusSetId: stimulusSet.id } });
  checkHeaderShape(artifact, { nStimuli, nVoxels: subject.nVoxels }, 'The response array');
  const name = input.name?.trim() || 'betas';

  let responseSetId = '';
  const { run } = await submitRun(
    ctx,
    importResponses,
    {
      labId: dataset.labId,
      params: { subjectId: subject.id, stimulusSetId: stimulusSet.id, name, artifactId: artifact.id, npzMember: input.npzMember ?? null, ...splitHalf },
      idempotencyKey: input.idempotencyKey,
      // Import runs stay with the lab that imports; the dataset can only narrow that.
      ownVisibility: 'PRIVATE',
      inputs: { datasetIds: [dataset.id], modelIds: [], runIds: [] },
    },
    async (tx, params) => {
      const existing = await tx.responseSet.findUnique({
        where: { subjectId_stimulusSetId_name: { subjectId: subject.id, stimulusSetId: stimulusSet.id, name } },
      });
      if (existing && existing.status !== 'FAILED')
        throw conflict(`Subject ${subject.name} already has a response set ${JSON.stringify(name)} for this stimulus set (${existing.status})`, {
          responseSetId: existing.id,
        });
      // A failed import may be retried with a corrected array under the same name.
      const set = existing
        ? await tx.responseSet.update({ where: { id: existing.id }, data: { status: 'PENDING', error: null, artifactId: artifact.id } })
        : await tx.responseSet.create({ data: { subjectId: subject.id, stimulusSetId: stimulusSet.id, name, artifactId: artifact.id } });
      responseSetId = set.id;
      return { ...params, responseSetId: set.id };
    },
  );
  const responseSet = await ctx.db.responseSet.findUniqueOrThrow({ where: { id: responseSetId || importResponses.params.parse(run.params).responseSetId } });
  return { responseSet, run };
}

export async function importFeatureSet(
  ctx: DomainContext,
  input: { modelId: string; stimulusSetId: string; layer?: string | null; artifactId: string; npzMember?: string | null; idempotencyKey?: string | null },
) {
  const model = await visibleModel(ctx, input.modelId);
  assertCanWrite(ctx.viewer, model.labId);
  const { stimulusSet } = await visibleStimulusSet(ctx, input.stimulusSetId);
  const artifact = await loadArtifact(ctx, input.artifactId);
  const nStimuli = await ctx.db.stimulus.count({ where: { stimulusSetId: stimulusSet.id } });
  checkHeaderShape(artifact, { nStimuli }, 'The feature array');
  if (model.featureWidth != null && artifact.shape.length === 2 && artifact.shape[1] !== model.featureWidth)
    throw badInput(`The feature array has width ${artifact.shape[1]} but model ${model.name} declares featureWidth ${model.featureWidth}`, 'artifactId');
  const layer = input.layer ?? '';

  let featureSetId = '';
  const { run } = await submitRun(
    ctx,
    importFeatures,
    {
      labId: model.labId,
      params: { modelId: model.id, stimulusSetId: stimulusSet.id, layer, artifactId: artifact.id, npzMember: input.npzMember ?? null },
      idempotencyKey: input.idempotencyKey,
      ownVisibility: 'PRIVATE',
      inputs: { datasetIds: [stimulusSet.datasetId], modelIds: [model.id], runIds: [] },
    },
    async (tx, params) => {
      const key = { modelId: model.id, stimulusSetId: stimulusSet.id, layer };
      const existing = await tx.featureSet.findUnique({ where: { modelId_stimulusSetId_layer: key } });
      if (existing && existing.status !== 'FAILED')
        throw conflict(`Model ${model.name} already has features${layer ? ` for layer ${layer}` : ''} on this stimulus set (${existing.status})`, {
          featureSetId: existing.id,
        });
      const set = existing
        ? await tx.featureSet.update({ where: { id: existing.id }, data: { status: 'PENDING', error: null, artifactId: artifact.id } })
        : await tx.featureSet.create({ data: { ...key, artifactId: artifact.id } });
      featureSetId = set.id;
      return { ...params, featureSetId: set.id };
    },
  );
  const featureSet = await ctx.db.featureSet.findUniqueOrThrow({ where: { id: featureSetId || importFeatures.params.parse(run.params).featureSetId } });
  return { featureSet, run };
}
