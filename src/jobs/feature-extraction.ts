// FEATURE_EXTRACTION: a registered backbone run over every image of a stimulus set, one
// feature set [n_stimuli, width] per requested layer, rows in stimulus order.
//
// Images are fetched, decoded (libvips threads) and preprocessed a batch ahead, so ONNX Runtime
// always has the next batch waiting (src/images/pipeline.ts); each layer's pooled rows stream into its own .npy writer as
// batches finish, so memory is a few batches whatever the number of images. Progress is reported
// per batch (which is also where a cancel is noticed). Outputs are content-addressed artifacts
// written only when complete, and the feature sets become READY in the run's final transaction,
// so a failed or cancelled attempt leaves nothing READY and a retry simply writes them anew.
import { z } from 'zod';
import { performance } from 'node:perf_hooks';
import { sharedEngine } from '../compute/engine-instance';
import { readEncoderBytes } from './io/encoder-bytes';
import { backboneGraph, readBackboneGraph, type BackboneLayer } from '../compute/vision/backbone';
import { NonFiniteFeatureError } from '../compute/vision/extract';
import { parseContract } from '../compute/vision/preprocess';
import { ImageDecodeError } from '../images/decode';
import { runExtraction, type ExtractionTimings } from '../images/pipeline';
import { RunInputError } from '../runs/types';
import { encodeNpyStream } from '../storage';
import { defineJob } from './define';
import { storeOutput } from './io/outputs';

export const featureExtractionParams = z.object({
  modelId: z.string().uuid(),
  stimulusSetId: z.string().uuid(),
  /** Layer names (graph output names); empty means every layer of the model. */
  layers: z.array(z.string().min(1)).max(256).default([]),
  batchSize: z.number().int().min(1).max(1024).default(32),
});
export type FeatureExtractionParams = z.output<typeof featureExtractionParams>;

/** A push-to-pull queue of chunks with backpressure: push waits while `limit` chunks are unread. */
class ChunkChannel implements AsyncIterable<Float32Array> {
  private chunks: Float32Array[] = [];
  private closed = false;
  private failure: Error | null = null;
  private wakeReader: (() => void) | null = null;
  private wakeWriter: (() => void) | null = null;
  constructor(private readonly limit = 4) {}

  async push(chunk: Float32Array): Promise<void> {
    while (this.chunks.length >= this.limit && !this.failure) await new Promise<void>((r) => (this.wakeWriter = r));
    this.chunks.push(chunk);
    this.wakeReader?.();
  }
  close(): void {
    this.closed = true;
    this.wakeReader?.();
  }
  fail(err: Error): void {
    this.failure = err;
    this.wakeReader?.();
    this.wakeWriter?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Float32Array> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.chunks.shift();
      if (next) {
        this.wakeWriter?.();
        yield next;
      } else if (this.closed) return;
      else await new Promise<void>((r) => (this.wakeReader = r));
    }
  }
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export const featureExtraction = defineJob({
  kind: 'FEATURE_EXTRACTION',
  params: featureExtractionParams,
  async handle(ctx) {
    const started = performance.now();
    const { modelId, stimulusSetId, batchSize } = ctx.params;
    const model = await ctx.db.model.findUnique({ where: { id: modelId }, include: { artifact: true } });
    if (!model?.artifact || !model.layers || !model.preprocessing) throw new RunInputError(`Model ${modelId} is not a registered backbone with an ONNX file`);
    const allLayers = model.layers as unknown as BackboneLayer[];
    const layers = ctx.params.layers.length ? ctx.params.layers.map((name) => allLayers.find((l) => l.name === name)) : allLayers;
    const missing = ctx.params.layers.filter((_, i) => !layers[i]);
    if (missing.length) throw new RunInputError(`Model ${model.name} has no layer ${missing.join(', ')}`);
    const chosen = layers as BackboneLayer[];
    const contract = parseContract(model.preprocessing);
    const stimuli = await ctx.db.stimulus.findMany({
      where: { stimulusSetId },
      orderBy: { position: 'asc' },
      select: { externalId: true, image: { select: { artifact: { select: { sha256: true } } } } },
    });
    const lacking = stimuli.filter((s) => !s.image);
    if (lacking.length) throw new RunInputError(`${lacking.length} stimuli have no image (first: ${lacking.slice(0, 5).map((s) => s.externalId).join(', ')})`);
    const n = stimuli.length;

    const engine = await sharedEngine();
    const bytes = await readEncoderBytes(ctx.store, model.artifact.sha256);
    const graph = readBackboneGraph(bytes);
    const session = backboneGraph(bytes, model.artifact.sha256, graph, chosen.map((l) => l.name));
    ctx.recordProvenance({
      model: { id: model.id, name: model.name, sha256: model.artifact.sha256 },
      preprocessing: contract,
      decoding: 'libvips via sharp: EXIF orientation, sRGB, alpha over (128,128,128); PIL-compatible resampling',
      engine: engine.provenance,
      layers: chosen,
      batchSize,
      nStimuli: n,
    });

    // One .npy writer per layer, fed as batches finish; each becomes an artifact when complete.
    const channels = chosen.map(() => new ChunkChannel());
    const writes = chosen.map((layer, i) =>
      storeOutput(ctx, encodeNpyStream({ dtype: '<f4', shape: [n, layer.width] }, channels[i]), {
        filename: `${model.name}.${layer.name}.features.npy`,
        dtype: '<f4',
        shape: [n, layer.width],
      }),
    );
    writes.forEach((w) => w.catch(() => undefined));

    let timings: ExtractionTimings;
    try {
      timings = await runExtraction({
        engine,
        graph: session,
        inputName: graph.inputName,
        contract,
        layers: chosen,
        nImages: n,
        batchSize,
        load: async (i) => readAll(await ctx.store.get(stimuli[i].image!.artifact.sha256)),
        decodeFailed: (i, err) =>
          err instanceof ImageDecodeError
            ? new RunInputError(`The image of stimulus ${stimuli[i].externalId} does not decode: ${err.message}`, { stimulus: stimuli[i].externalId })
            : (err as Error),
        rows: async (_start, _count, perLayer) => {
          await Promise.all(perLayer.map((r, i) => channels[i].push(r)));
        },
        batchDone: (done) => ctx.progress((0.98 * done) / n, `extracted ${done} of ${n} images`),
      });
      channels.forEach((c) => c.close());
    } catch (err) {
      channels.forEach((c) => c.fail(err as Error));
      await Promise.allSettled(writes);
      if (err instanceof NonFiniteFeatureError) {
        const s = stimuli[err.index];
        throw new RunInputError(`Model ${model.name} gave a non-finite feature (${err.value}) in layer ${err.layer} for stimulus ${s.externalId}`, { stimulus: s.externalId, layer: err.layer });
      }
      throw err;
    }
    const artifacts = await Promise.all(writes);
    ctx.recordProvenance({ timings: { ...timings, totalSeconds: (performance.now() - started) / 1000 } });
    const outputs = Object.fromEntries(chosen.map((l, i) => [l.name, artifacts[i].id]));
    return {
      outputs,
      commit: async (tx) => {
        for (const [i, layer] of chosen.entries()) {
          const key = { modelId: model.id, stimulusSetId, layer: layer.name };
          const data = { status: 'READY' as const, artifactId: artifacts[i].id, dim: layer.width, error: null };
          await tx.featureSet.upsert({ where: { modelId_stimulusSetId_layer: key }, create: { ...key, ...data }, update: data });
        }
      },
    };
  },
});
