// Submitting a FEATURE_EXTRACTION run: refused before anything is queued when the model is not a
// registered backbone, a layer is unknown, or stimuli lack images (first offenders and the count).
import { badInput } from '../errors';
import type { BackboneLayer } from '../compute/vision/backbone';
import { featureExtraction } from '../jobs/feature-extraction';
import type { DomainContext } from './context';
import { assertCanWrite } from './access';
import { visibleModel, visibleStimulusSet } from './catalog';
import { checkBatchBudget } from './run-budget';
import { parseParams, submitRun } from './runs';

export interface FeatureExtractionRequest {
  modelId: string;
  stimulusSetId: string;
  layers?: string[] | null;
  batchSize?: number | null;
  idempotencyKey?: string | null;
}

const FIRST = 10;

export async function submitFeatureExtraction(ctx: DomainContext, input: FeatureExtractionRequest) {
  const model = await visibleModel(ctx, input.modelId);
  const { stimulusSet, dataset } = await visibleStimulusSet(ctx, input.stimulusSetId);
  assertCanWrite(ctx.viewer, dataset.labId);
  const params = parseParams(featureExtraction, {
    modelId: model.id,
    stimulusSetId: stimulusSet.id,
    layers: input.layers ?? [],
    batchSize: input.batchSize ?? undefined,
  });
  if (model.kind !== 'BACKBONE' || !model.layers)
    throw badInput(`Model ${model.name} is ${model.kind === 'BACKBONE' ? 'a backbone without its ONNX file' : `a ${model.kind}`}; feature extraction runs a BACKBONE registered with its ONNX artifactId`, 'modelId');
  const known = (model.layers as unknown as BackboneLayer[]).map((l) => l.name);
  const unknown = params.layers.filter((l) => !known.includes(l));
  if (unknown.length)
    throw badInput(`${unknown.length} layer${unknown.length > 1 ? 's are' : ' is'} not in model ${model.name}: ${unknown.slice(0, FIRST).join(', ')} (layers: ${known.join(', ')})`, 'layers', { unknown: unknown.slice(0, FIRST), count: unknown.length });
  const dup = params.layers.find((l, i) => params.layers.indexOf(l) !== i);
  if (dup) throw badInput(`layer ${dup} is named twice`, 'layers');
  if (params.layers.length === 0) params.layers = known;
  const layers = (model.layers as unknown as BackboneLayer[]).filter((l) => params.layers.includes(l.name));
  const inputSize = (model.preprocessing as { inputSize?: [number, number] } | null)?.inputSize ?? [224, 224];
  checkBatchBudget(ctx, { batchSize: params.batchSize, inputSize, layerValues: layers.reduce((n, l) => n + l.shape.reduce((a, b) => a * Math.max(1, b), 1), 0) });
  const where = { stimulusSetId: stimulusSet.id, image: { is: null } };
  const [count, first] = await Promise.all([
    ctx.db.stimulus.count({ where }),
    ctx.db.stimulus.findMany({ where, orderBy: { position: 'asc' }, take: FIRST, select: { externalId: true } }),
  ]);
  if (count > 0)
    throw badInput(
      `${count} stimul${count === 1 ? 'us has' : 'i have'} no image (first: ${first.map((s) => s.externalId).join(', ')}); attach them with importStimulusImages or attachStimulusImage`,
      'stimulusSetId',
      { withoutImage: first.map((s) => s.externalId), count },
    );

  const { run } = await submitRun(ctx, featureExtraction, {
    labId: dataset.labId,
    modelId: model.id,
    inputs: { datasetIds: [dataset.id], modelIds: [model.id], runIds: [] },
    idempotencyKey: input.idempotencyKey,
    params,
  });
  return run;
}
