// One batch of a feature extraction: run the backbone on a preprocessed batch and pool each
// layer into feature rows, refusing non-finite outputs with the image that produced them.
// Pure: typed arrays and the engine in, typed arrays out.
import type { Engine, Graph } from '../onnx';
import { poolLayer, type BackboneLayer } from './backbone';

/** An image whose features are not finite; `index` is its row within the batch. */
export class NonFiniteFeatureError extends Error {
  constructor(
    /** Row within the batch; the extraction loop turns it into the image's row. */
    public index: number,
    readonly layer: string,
    readonly value: number,
  ) {
    super(`layer ${layer} gave ${value} for image ${index} of the batch`);
    this.name = 'NonFiniteFeatureError';
  }
}

/**
 * Runs `graph` on `pixels` ([batch, 3, H, W]) and returns each layer's pooled rows
 * ([batch, layer.width], float32), in the order of `layers`.
 */
export async function extractBatch(engine: Engine, graph: Graph, inputName: string, pixels: Float32Array, batch: number, inputSize: readonly [number, number], layers: readonly BackboneLayer[]): Promise<Float32Array[]> {
  const out = await engine.run(graph, { [inputName]: { data: pixels, dims: [batch, 3, inputSize[0], inputSize[1]] } });
  return layers.map((layer) => {
    const rows = poolLayer(out[layer.name].data as Float32Array, batch, layer.shape, layer.pooling);
    for (let i = 0; i < rows.length; i++) if (!Number.isFinite(rows[i])) throw new NonFiniteFeatureError(Math.floor(i / layer.width), layer.name, rows[i]);
    return rows;
  });
}
