// Bounds on the run parameters that scale a worker's memory, derived from what one worker can
// hold (WORKER_MEMORY_MB), and checked before anything is queued: a request the worker could not
// finish is refused with the largest value that fits, instead of taking the worker down.
import { badInput } from '../errors';
import type { DomainContext } from './context';

/** Share of a worker's memory one run's largest arrays may take; the rest holds inputs, the ONNX engine and Node. */
export const RUN_MEMORY_SHARE = 0.5;
/** roiBootstrap's voxel batch (src/compute/stats.ts). */
const VOXEL_BATCH = 4096;

export function runBudgetBytes(ctx: DomainContext): number {
  return ctx.services.config.workerMemoryBytes * RUN_MEMORY_SHARE;
}

const mb = (bytes: number) => `${Math.ceil(bytes / (1024 * 1024))} MB`;

/**
 * Bytes per bootstrap resample of the ROI bootstrap (src/compute/stats.ts roiBootstrap): the
 * resample's stimulus indices and counts, its metric for every voxel, and the batch's moments.
 */
export function ridgeBootstrapBytesPerSample(nTest: number, nVoxels: number): number {
  return 4 * (2 * nTest) + 4 * nVoxels + 4 * 5 * Math.min(VOXEL_BATCH, nVoxels);
}

/** Refuses bootstrapSamples whose resamples over nTest stimuli x nVoxels voxels do not fit a worker. */
export function checkBootstrapBudget(
  ctx: DomainContext,
  input: { bootstrapSamples: number; perSample: number; shape: string; field?: string },
): void {
  const budget = runBudgetBytes(ctx);
  const max = Math.floor(budget / input.perSample);
  if (input.bootstrapSamples <= max) return;
  const field = input.field ?? 'bootstrapSamples';
  throw badInput(
    `${field} = ${input.bootstrapSamples} needs about ${mb(input.bootstrapSamples * input.perSample)} for ${input.shape}; ` +
      `a worker holds at most ${max} resamples here (${RUN_MEMORY_SHARE * 100}% of WORKER_MEMORY_MB = ${mb(ctx.services.config.workerMemoryBytes)}). ` +
      `Give ${field} <= ${max} (0 skips the confidence intervals)`,
    field,
    { max, bytesPerSample: input.perSample, budgetBytes: budget },
  );
}

/**
 * Refuses a feature-extraction batch whose images and layer outputs do not fit a worker: each
 * image in flight is decoded, preprocessed (one batch ahead, so two batches at once) and gives
 * every requested layer's unpooled output.
 */
export function checkBatchBudget(ctx: DomainContext, input: { batchSize: number; inputSize: [number, number]; layerValues: number }): void {
  const [h, w] = input.inputSize;
  const perImage = 4 * (2 * 2 * 3 * h * w + input.layerValues);
  const budget = runBudgetBytes(ctx);
  const max = Math.max(0, Math.floor(budget / perImage));
  if (input.batchSize <= max) return;
  throw badInput(
    `batchSize = ${input.batchSize} needs about ${mb(input.batchSize * perImage)} for ${h}x${w} inputs and ${input.layerValues} layer values per image; ` +
      `a worker holds at most ${max} images per batch here (${RUN_MEMORY_SHARE * 100}% of WORKER_MEMORY_MB = ${mb(ctx.services.config.workerMemoryBytes)}). Give batchSize <= ${max}`,
    'batchSize',
    { max, bytesPerImage: perImage, budgetBytes: budget },
  );
}
