// The extraction loop shared by FEATURE_EXTRACTION and its benchmark: images are loaded, decoded
// and preprocessed one batch ahead (libvips decodes on its own threads, so ONNX Runtime never
// waits for pixels unless decoding is the slower side), each batch runs through the backbone and
// its pooled rows go to the caller in stimulus order. No storage or database: images come from a
// callback, rows leave through one.
import { performance } from 'node:perf_hooks';
import type { Engine, Graph } from '../compute/onnx';
import type { BackboneLayer } from '../compute/vision/backbone';
import { extractBatch } from '../compute/vision/extract';
import type { PreprocessContract } from '../compute/vision/preprocess';
import { preprocessImageFile } from './preprocess';

export interface ExtractionPlan {
  engine: Engine;
  graph: Graph;
  inputName: string;
  contract: PreprocessContract;
  layers: readonly BackboneLayer[];
  nImages: number;
  batchSize: number;
  /** The bytes of image i (in row order). */
  load(i: number): Promise<Uint8Array>;
  /** Called when image i fails to decode or preprocess; returns the error to throw. */
  decodeFailed?(i: number, err: unknown): Error;
  /** Pooled rows of images [start, start + count), one array per layer. Awaited (backpressure). */
  rows(start: number, count: number, perLayer: Float32Array[]): Promise<void>;
  /** After each batch (progress, cancellation). */
  batchDone?(done: number): Promise<void>;
}

export interface ExtractionTimings {
  /** Wall time spent loading + decoding + preprocessing (overlaps inference). */
  decodeSeconds: number;
  inferenceSeconds: number;
  totalSeconds: number;
}

/** Runs the plan; throws NonFiniteFeatureError (with the batch index) for non-finite features. */
export async function runExtraction(p: ExtractionPlan): Promise<ExtractionTimings> {
  const started = performance.now();
  const per = 3 * p.contract.inputSize[0] * p.contract.inputSize[1];
  let decodeSeconds = 0;
  let inferenceSeconds = 0;
  const prepare = async (start: number) => {
    const t0 = performance.now();
    const count = Math.min(p.batchSize, p.nImages - start);
    const pixels = new Float32Array(count * per);
    await Promise.all(
      Array.from({ length: count }, async (_, j) => {
        const bytes = await p.load(start + j);
        try {
          await preprocessImageFile(bytes, p.contract, pixels, j * per);
        } catch (err) {
          throw p.decodeFailed ? p.decodeFailed(start + j, err) : err;
        }
      }),
    );
    decodeSeconds += (performance.now() - t0) / 1000;
    return { count, pixels };
  };
  let next = p.nImages > 0 ? prepare(0) : null;
  next?.catch(() => undefined);
  try {
    for (let start = 0; start < p.nImages; start += p.batchSize) {
      const batch = await next!;
      if (start + p.batchSize < p.nImages) {
        next = prepare(start + p.batchSize);
        next.catch(() => undefined);
      } else next = null;
      const t0 = performance.now();
      let rows: Float32Array[];
      try {
        rows = await extractBatch(p.engine, p.graph, p.inputName, batch.pixels, batch.count, p.contract.inputSize, p.layers);
      } catch (err) {
        if (err && typeof err === 'object' && 'index' in err) (err as { index: number }).index += start;
        throw err;
      }
      inferenceSeconds += (performance.now() - t0) / 1000;
      await p.rows(start, batch.count, rows);
      await p.batchDone?.(start + batch.count);
    }
  } finally {
    // A batch still decoding when the loop stops (cancel, failure) is left to finish quietly.
    await next?.catch(() => undefined);
  }
  return { decodeSeconds, inferenceSeconds, totalSeconds: (performance.now() - started) / 1000 };
}
