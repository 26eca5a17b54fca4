// In-context encoders built in memory as ONNX graphs, for tests that need a model satisfying (or
// deliberately breaking) the contract without a trained network.
import { onnx } from 'onnx-proto';
import { GraphBuilder, type Dim } from '../../src/compute/onnx';

export interface RidgeEncoderOptions {
  featureWidth: number;
  /** Ridge penalty on the context (features and responses centred over the context). */
  lambda: number;
  threeInput?: boolean;
  maxContext?: number;
  /** brainalign.feature_width metadata (defaults to none). */
  declaredWidth?: number;
}

/**
 * "Ridge in context": per voxel, w = Xc^T (Xc Xc^T + lambda I)^-1 yc over its S context pairs
 * (Xc, yc centred over the context), b = mean(y) - mean(x) . w. A genuine in-context encoder with
 * a closed-form answer. The S x S inverse is ONNX Runtime's com.microsoft Inverse.
 */
export function ridgeInContextEncoder(o: RidgeEncoderOptions): Uint8Array {
  const E = o.featureWidth;
  const g = new GraphBuilder('ridge_in_context');
  const X = g.input('ic_img', 'float32', ['B', 'S', E]);
  const y = g.input('ic_nrn', 'float32', ['B', 'S']);
  if (o.threeInput) g.input('unknown_img', 'float32', ['B', 'Q', E]);
  const xm = g.node('ReduceMean', [X], { axes: [1], keepdims: 1 });
  const xc = g.node('Sub', [X, xm]);
  const y3 = g.node('Unsqueeze', [y, g.ints([2])]);
  const ym = g.node('ReduceMean', [y3], { axes: [1], keepdims: 1 });
  const yc = g.node('Sub', [y3, ym]);
  const K = g.node('MatMul', [xc, g.node('Transpose', [xc], { perm: [0, 2, 1] })]);
  // lambda I, broadcast to [B, S, S]: EyeLike needs a static 2-D input, so build it from a [S, S] slice.
  const kk = g.node('Gather', [K, g.constant([0], 'int64', [])], { axis: 0 });
  const eye = g.node('EyeLike', [kk]);
  const reg = g.node('Add', [K, g.node('Mul', [eye, g.constant([o.lambda], 'float32', [])])]);
  const inv = g.node('Inverse', [reg]);
  const alpha = g.node('MatMul', [inv, yc]);
  const w = g.node('MatMul', [g.node('Transpose', [xc], { perm: [0, 2, 1] }), alpha]);
  const b = g.node('Sub', [ym, g.node('MatMul', [xm, w])]);
  const weights = g.node('Concat', [g.node('Squeeze', [w, g.ints([2])]), g.node('Squeeze', [b, g.ints([2])])], { axis: 1 });
  g.output(weights, 'weights', 'float32', ['B', E + 1]);
  if (o.threeInput) {
    const pred = g.node('Add', [g.node('MatMul', ['unknown_img', w]), b]);
    g.output(g.node('Squeeze', [pred, g.ints([2])]), 'pred', 'float32', ['B', 'Q']);
  }
  const meta: Record<string, string> = {};
  if (o.maxContext) meta['brainalign.max_context'] = String(o.maxContext);
  if (o.declaredWidth) meta['brainalign.feature_width'] = String(o.declaredWidth);
  meta['brainalign.architecture'] = 'closed-form ridge over the context';
  return withContribOps(g.build().bytes, ['Inverse'], meta);
}

/** Moves the named ops into the com.microsoft domain and adds metadata_props. */
export function withContribOps(bytes: Uint8Array, ops: string[], meta: Record<string, string> = {}): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  for (const node of model.graph!.node!) if (ops.includes(node.opType!)) node.domain = 'com.microsoft';
  if (ops.length) model.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
  model.metadataProps = Object.entries(meta).map(([key, value]) => ({ key, value }));
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A small graph with the given input and output signatures; every output is a (broadcast) function
 * of the first input so ONNX Runtime accepts it. For contract refusals.
 */
export function signatureModel(
  inputs: { name: string; dims: Dim[]; type?: 'float32' | 'float64' }[],
  outputs: { name: string; dims: Dim[]; build: (g: GraphBuilder, inputs: string[]) => string }[],
  meta: Record<string, string> = {},
): Uint8Array {
  const g = new GraphBuilder('signature');
  const names = inputs.map((i) => g.input(i.name, i.type ?? 'float32', i.dims));
  for (const o of outputs) g.output(o.build(g, names), o.name, 'float32', o.dims);
  return withContribOps(g.build().bytes, [], meta);
}
