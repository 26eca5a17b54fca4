// Small ONNX graphs built in memory. Kernels describe the arithmetic once as a graph; the engine
// runs it on whichever execution provider it was given, so CPU and CUDA share every line above.
import { createHash } from 'node:crypto';
import { onnx } from 'onnx-proto';

export type ElementType = 'float32' | 'float64' | 'int64';

const ELEMENT_CODE: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
};

/** A dimension: a fixed size, or a symbolic name so one session serves every size. */
export type Dim = number | string;

export type AttributeValue = number | number[] | string;

interface PendingNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
  intAttributes: Set<string>;
  /** An Identity added by output() to give a value its output name. */
  rename?: boolean;
}

/**
 * A built graph: its serialized ModelProto and a structural key (a hash of those bytes), which the
 * engine uses to share one session between every call of the same graph.
 */
export interface Graph {
  readonly name: string;
  /**
   * Run on one intra-op thread: for small, latency-bound graphs called many times in a row (a
   * matrix-vector product per column), where waking a thread pool costs more than it saves.
   */
  readonly singleThread: boolean;
  readonly bytes: Uint8Array;
  readonly key: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

/** ONNX opset the graphs target: 17 has ReduceSum with axes as input and LayerNormalization. */
export const OPSET = 17;

/**
 * Builder for one graph. Values are named strings; `node` returns its output names.
 *
 * ```ts
 * const g = new GraphBuilder('matmul');
 * const a = g.input('A', 'float32', ['m', 'k']);
 * const b = g.input('B', 'float32', ['k', 'n']);
 * g.output(g.node('MatMul', [a, b]), 'C', 'float32', ['m', 'n']);
 * const graph = g.build();
 * ```
 */
export class GraphBuilder {
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly nodes: PendingNode[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  input(name: string, type: ElementType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Adds a node. Integer-valued attributes are sent as INT/INTS unless named in `floatAttrs`
   * (ONNX distinguishes `alpha: 1` the float from `axis: 1` the int).
   */
  node(
    op: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    options: { outputs?: number; floatAttrs?: string[] } = {},
  ): string {
    return this.nodeMulti(op, inputs, attributes, options)[0];
  }

  nodeMulti(
    op: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    options: { outputs?: number; floatAttrs?: string[] } = {},
  ): string[] {
    const outputs = Array.from({ length: options.outputs ?? 1 }, () => `${op.toLowerCase()}_${this.counter++}`);
    const floatAttrs = new Set(options.floatAttrs ?? []);
    const intAttributes = new Set(Object.keys(attributes).filter((k) => !floatAttrs.has(k)));
    this.nodes.push({ op, inputs, outputs, attributes, intAttributes });
    return outputs;
  }

  /** A constant tensor stored in the graph (an initializer). */
  constant(values: ArrayLike<number>, type: ElementType, dims: number[]): string {
    const name = `const_${this.counter++}`;
    const t: onnx.ITensorProto = { name, dataType: ELEMENT_CODE[type], dims };
    if (type === 'float32') t.floatData = Array.from(values);
    else if (type === 'float64') t.doubleData = Array.from(values);
    else t.int64Data = Array.from(values);
    this.initializers.push(t);
    return name;
  }

  /** A 1-D int64 constant (axes, shapes, slice bounds). */
  ints(values: number[]): string {
    return this.constant(values, 'int64', [values.length]);
  }

  /** Marks `value` as a graph output under `name` (inserting an Identity when the names differ). */
  output(value: string, name: string, type: ElementType, dims: Dim[]): string {
    if (value !== name) this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attributes: {}, intAttributes: new Set(), rename: true });
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * The nodes with output() renames folded into the producing node where that is possible (the
   * value comes from a node, is renamed once and is no graph output itself): ONNX Runtime keeps
   * such Identity nodes, each a copy of its tensor (measured 20-30 ms per call for the ridge
   * cross products' five d x 4096 outputs).
   */
  private finalNodes(): PendingNode[] {
    const produced = new Map<string, PendingNode>();
    for (const n of this.nodes) for (const o of n.outputs) produced.set(o, n);
    const outputNames = new Set(this.outputs.map((o) => o.name as string));
    const renameCount = new Map<string, number>();
    for (const n of this.nodes) if (n.rename) renameCount.set(n.inputs[0], (renameCount.get(n.inputs[0]) ?? 0) + 1);
    const renamed = new Map<string, string>();
    const dropped = new Set<PendingNode>();
    for (const n of this.nodes) {
      const value = n.inputs[0];
      if (!n.rename || !produced.has(value) || renameCount.get(value) !== 1 || outputNames.has(value)) continue;
      renamed.set(value, n.outputs[0]);
      dropped.add(n);
    }
    if (!renamed.size) return this.nodes;
    const name = (v: string) => renamed.get(v) ?? v;
    return this.nodes
      .filter((n) => !dropped.has(n))
      .map((n) => ({ ...n, inputs: n.inputs.map(name), outputs: n.outputs.map(name) }));
  }

  build(options: { singleThread?: boolean } = {}): Graph {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'brainalign',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.name,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
        node: this.finalNodes().map((n) =>
          onnx.NodeProto.create({
            opType: n.op,
            input: n.inputs,
            output: n.outputs,
            attribute: Object.entries(n.attributes).map(([k, v]) => attribute(k, v, n.intAttributes.has(k))),
          }),
        ),
      },
    });
    const bytes = onnx.ModelProto.encode(model).finish();
    const singleThread = options.singleThread ?? false;
    return {
      name: this.name,
      singleThread,
      bytes,
      key: createHash('sha256').update(bytes).update(singleThread ? ':1' : ':0').digest('hex'),
      inputNames: this.inputs.map((i) => i.name as string),
      outputNames: this.outputs.map((o) => o.name as string),
    };
  }
}

function valueInfo(name: string, type: ElementType, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_CODE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue, integer: boolean): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return integer ? { name, type: T.INTS, ints: value } : { name, type: T.FLOATS, floats: value };
  return integer ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
}
