// The ONNX contract of an image backbone and the pooling of its layers:
//   input   one float32 tensor [B, 3, H, W], B dynamic (H and W fixed or dynamic)
//   outputs every graph output is a layer, named by its output name, float32 with a dynamic
//           batch axis first: [B, C, H', W'] (CNN stage), [B, T, C] (tokens, CLS first), [B, C]
//   metadata brainalign.preprocess (JSON preprocessing contract, ./preprocess) and optionally
//           brainalign.pooling (JSON { layer: pooling }), brainalign.architecture.
// Pooling turns one image's layer output into a feature row:
//   cls     token 0 of [T, C]                 -> C
//   mean    mean over tokens [T, C] or over spatial positions [C, H, W] -> C
//   gap     global average of [C, H, W]       -> C
//   flatten every value                       -> prod(shape)
//   none    [C] as it is                      -> C
// Pure: typed arrays and the engine in, typed arrays out.
import { onnx } from 'onnx-proto';
import type { Engine, Graph } from '../onnx';
import { normalizeInto, type PreprocessContract } from './preprocess';

export type Pooling = 'cls' | 'mean' | 'gap' | 'flatten' | 'none';
export const POOLINGS: readonly Pooling[] = ['cls', 'mean', 'gap', 'flatten', 'none'];

export const BACKBONE_SIGNATURE =
  'one input float32 [B, 3, H, W] with B dynamic; every output a float32 layer [B, ...] (e.g. [B, C, H, W], [B, T, C] or [B, C]) named by its output name';

export const META = { preprocess: 'brainalign.preprocess', pooling: 'brainalign.pooling', architecture: 'brainalign.architecture' } as const;

/** A mismatch with the backbone contract; `field` is the registration argument it concerns. */
export class BackboneContractError extends Error {
  constructor(
    message: string,
    readonly field: string = 'artifactId',
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'BackboneContractError';
  }
}

type Dim = number | string | null;

export interface BackboneGraph {
  inputName: string;
  /** [B, 3, H, W] as declared: numbers fixed, strings/null dynamic. */
  inputDims: Dim[];
  outputs: { name: string; dims: Dim[] | null }[];
  metadata: Map<string, string>;
}

/** One layer as registration records it. */
export interface BackboneLayer {
  name: string;
  /** Per-image shape (batch axis dropped), from the dry run. */
  shape: number[];
  /** Width of the pooled feature row. */
  width: number;
  pooling: Pooling;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function dimsOf(v: onnx.IValueInfoProto): Dim[] | null {
  const t = v.type?.tensorType;
  if (!t?.shape) return null;
  return (t.shape.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : null));
}

function describeDims(d: Dim[] | null): string {
  return d ? `[${d.map((x) => (x === null ? '?' : x)).join(', ')}]` : '[unknown rank]';
}

function typeName(code: number): string {
  return (onnx.TensorProto.DataType[code] ?? `type ${code}`).toLowerCase().replace(/^float$/, 'float32');
}

/** Reads and checks the graph's signature; throws BackboneContractError saying what was found. */
export function readBackboneGraph(bytes: Uint8Array): BackboneGraph {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new BackboneContractError(`The artifact is not an ONNX model (${(err as Error).message}); export the backbone with models/backbones/export_backbone.py`);
  }
  const graph = model.graph;
  if (!graph?.node?.length || !graph.output?.length)
    throw new BackboneContractError('The artifact is not an ONNX model (no graph with nodes and outputs); export the backbone with models/backbones/export_backbone.py');
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  const found = `inputs ${inputs.map((i) => `${i.name} ${typeName(i.type?.tensorType?.elemType ?? 0)} ${describeDims(dimsOf(i))}`).join(', ') || '(none)'} -> outputs ${graph.output.map((o) => `${o.name} ${typeName(o.type?.tensorType?.elemType ?? 0)} ${describeDims(dimsOf(o))}`).join(', ')}`;
  const refuse = (what: string): never => {
    throw new BackboneContractError(`The model is not an image backbone: ${what}. Expected ${BACKBONE_SIGNATURE}; found ${found}`, 'artifactId', { expected: BACKBONE_SIGNATURE, found });
  };
  if (inputs.length !== 1) refuse(`it has ${inputs.length} inputs, not one image tensor`);
  const input = inputs[0];
  const inputDims = dimsOf(input);
  if (input.type?.tensorType?.elemType !== FLOAT) refuse(`input ${input.name} is ${typeName(input.type?.tensorType?.elemType ?? 0)}, not float32`);
  if (!inputDims || inputDims.length !== 4) refuse(`input ${input.name} has shape ${describeDims(inputDims)}, not [B, 3, H, W]`);
  if (typeof inputDims![0] === 'number') refuse(`input ${input.name} has a fixed batch B = ${inputDims![0]}; export with dynamic_axes so B is dynamic`);
  if (inputDims![1] !== 3) refuse(`input ${input.name} has ${inputDims![1] ?? 'a dynamic number of'} channels, not 3 (RGB, channels first)`);
  const outputs = graph.output.map((o) => {
    const dims = dimsOf(o);
    if (o.type?.tensorType?.elemType !== FLOAT) refuse(`output ${o.name} is ${typeName(o.type?.tensorType?.elemType ?? 0)}, not float32`);
    if (dims && dims.length < 2) refuse(`output ${o.name} has shape ${describeDims(dims)}; a layer needs a batch axis and at least one feature axis`);
    if (dims && typeof dims[0] === 'number' && dims[0] !== null && typeof inputDims![0] !== 'number') {
      // A fixed leading 1 usually means a layer that does not follow the batch (an export bug).
      refuse(`output ${o.name} has a fixed first axis ${dims[0]}; every layer must have the batch axis first`);
    }
    return { name: o.name ?? '', dims };
  });
  return { inputName: input.name ?? '', inputDims: inputDims!, outputs, metadata: new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])) };
}

/** Refuses a contract whose input size contradicts fixed H, W of the graph, naming both. */
export function checkContractAgainstGraph(g: BackboneGraph, c: PreprocessContract): void {
  const [, , h, w] = g.inputDims;
  const [H, W] = c.inputSize;
  if ((typeof h === 'number' && h !== H) || (typeof w === 'number' && w !== W))
    throw new BackboneContractError(
      `The preprocessing gives ${H} x ${W} inputs but the graph's input ${g.inputName} is fixed at ${h} x ${w}; give preprocessing.inputSize [${h}, ${w}] or re-export`,
      'preprocessing.inputSize',
      { graph: [h, w], preprocessing: [H, W] },
    );
}

export function defaultPooling(rank: number): Pooling {
  return rank === 4 ? 'gap' : rank === 3 ? 'cls' : rank === 2 ? 'none' : 'flatten';
}

/** Checks that `pooling` applies to a per-image shape; returns the pooled width or throws. */
export function pooledWidth(layer: string, shape: readonly number[], pooling: Pooling): number {
  const fits: Record<Pooling, boolean> = {
    cls: shape.length === 2,
    mean: shape.length === 2 || shape.length === 3,
    gap: shape.length === 3,
    flatten: shape.length >= 1,
    none: shape.length === 1,
  };
  if (!fits[pooling]) {
    const want: Record<Pooling, string> = { cls: '[B, T, C]', mean: '[B, T, C] or [B, C, H, W]', gap: '[B, C, H, W]', flatten: 'any', none: '[B, C]' };
    throw new BackboneContractError(
      `Pooling ${pooling} needs a layer shaped ${want[pooling]}, but ${layer} gives [B, ${shape.join(', ')}]; use ${defaultPooling(shape.length + 1)}${shape.length > 1 ? ' or flatten' : ''}`,
      'pooling',
      { layer, shape, pooling },
    );
  }
  if (pooling === 'cls' || pooling === 'mean') return shape.length === 2 ? shape[1] : shape[0];
  if (pooling === 'gap') return shape[0];
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Pools a layer output of `batch` images (row-major [batch, ...shape]) into `out` rows
 * [batch, width], float32, accumulating in float64.
 */
export function poolLayer(data: Float32Array, batch: number, shape: readonly number[], pooling: Pooling, out: Float32Array = new Float32Array(batch * pooledWidth('layer', shape, pooling))): Float32Array {
  const per = shape.reduce((a, b) => a * b, 1);
  const width = pooledWidth('layer', shape, pooling);
  for (let b = 0; b < batch; b++) {
    const src = data.subarray(b * per, (b + 1) * per);
    const dst = out.subarray(b * width, (b + 1) * width);
    if (pooling === 'flatten' || pooling === 'none') dst.set(src);
    else if (pooling === 'cls') dst.set(src.subarray(0, width));
    else if (shape.length === 2) {
      // mean over tokens [T, C]
      const [T, C] = shape;
      const acc = new Float64Array(C);
      for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) acc[c] += src[t * C + c];
      for (let c = 0; c < C; c++) dst[c] = acc[c] / T;
    } else {
      // mean / gap over spatial positions [C, H, W]
      const [C, H, W] = shape;
      const n = H * W;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let i = c * n, end = i + n; i < end; i++) s += src[i];
        dst[c] = s / n;
      }
    }
  }
  return out;
}

/** The engine's handle on a backbone's session, fetching the chosen layers. */
export function backboneGraph(bytes: Uint8Array, sha256: string, g: BackboneGraph, layers: readonly string[]): Graph {
  return { name: `backbone ${sha256.slice(0, 12)}`, singleThread: false, bytes, key: `backbone:${sha256}`, inputNames: [g.inputName], outputNames: layers };
}

/**
 * A deterministic test image at the input size (horizontal and vertical gradients, a bright
 * square), normalised by the contract: the registration dry run feeds it.
 */
export function dryRunInput(c: PreprocessContract): Float32Array {
  const [H, W] = c.inputSize;
  const px = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      const inSquare = x > W / 3 && x < (2 * W) / 3 && y > H / 3 && y < (2 * H) / 3;
      px[i] = inSquare ? 240 : Math.round((255 * x) / Math.max(1, W - 1));
      px[i + 1] = inSquare ? 220 : Math.round((255 * y) / Math.max(1, H - 1));
      px[i + 2] = 96;
    }
  const out = new Float32Array(3 * H * W);
  normalizeInto(px, H, W, c, out);
  return out;
}

/**
 * Runs the backbone once and returns each output's per-image shape with its pooling (given,
 * else from metadata, else the default for its rank). Throws BackboneContractError when a
 * pooling does not fit, a layer has no batch axis of 1, or a value is not finite.
 */
export async function dryRunBackbone(
  engine: Engine,
  bytes: Uint8Array,
  sha256: string,
  g: BackboneGraph,
  c: PreprocessContract,
  pooling: Record<string, Pooling>,
): Promise<BackboneLayer[]> {
  const names = g.outputs.map((o) => o.name);
  const out = await engine.run(backboneGraph(bytes, sha256, g, names), { [g.inputName]: { data: dryRunInput(c), dims: [1, 3, ...c.inputSize] } });
  return names.map((name) => {
    const t = out[name];
    if (t.dims[0] !== 1) throw new BackboneContractError(`Layer ${name} gave shape [${t.dims.join(', ')}] for one image; its first axis must be the batch`, 'artifactId');
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++)
      if (!Number.isFinite(data[i])) throw new BackboneContractError(`Layer ${name} gave a non-finite value (${data[i]}) on the dry-run image`, 'artifactId');
    const shape = t.dims.slice(1) as number[];
    const p = pooling[name] ?? defaultPooling(t.dims.length);
    return { name, shape, width: pooledWidth(name, shape, p), pooling: p };
  });
}
