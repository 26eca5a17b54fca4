// BraInCoRL's attention multiplies its queries by log(sequence length) (registers + context
// images), so a correct graph computes that log from the runtime shape. Passing the official module
// to torch.onnx.export instead freezes math.log(x.shape[-2]) into the constant log(T0) of the
// example input: the graph runs at every context size, has the contract's signature, and is right
// only at the traced one. Its outputs alone cannot show this (no reference is at hand), so the
// check reads the graph and then probes it:
//   1. which encoders it applies to: brainalign.architecture names BraInCoRL, or the graph has
//      attention (Softmax) and multiplies an input-dependent value by a scalar constant c with
//      e^c an integer >= 3 (the fingerprint of a frozen log-length);
//   2. for those, every Log of an input-dependent value is exposed as an extra output and the graph
//      is run at two context sizes S1 != S2: a log-length scale reads log(S + R) at both, with the
//      same whole number R >= 0 of extra tokens (registers) and the same value for every voxel.
// At least one Log must follow that rule, or registration refuses the graph. What it catches: a
// scale frozen to a constant (whether or not metadata names the architecture) and a BraInCoRL graph
// whose scale does not follow the context size. What it cannot catch: a frozen scale that
// constant folding has merged into a weight matrix in a graph that declares no architecture
// (then no scalar constant is left to recognise).
import { onnx } from 'onnx-proto';
import type { Engine, HostTensor } from '../onnx';
import { ContractError, decodeModel } from './contract';

const CONVERT = 'convert the checkpoint with models/braincorl/convert_checkpoint.py (it loads the official weights into a module whose scale is the log of the runtime shape; see "Exporting the official module" in the README)';

export interface ScalingGraph {
  /** Whether the check applies (declared BraInCoRL, or attention with a frozen-log fingerprint). */
  applies: boolean;
  /** Scalar constants c multiplying input-dependent values with e^c = n, an integer >= 3. */
  frozen: { value: number; length: number; node: string }[];
  /** Outputs of Log nodes whose input depends on the model's inputs. */
  runtimeLogs: string[];
}

function scalarFloat(t: onnx.ITensorProto | null | undefined): number | null {
  if (!t || t.dataType !== onnx.TensorProto.DataType.FLOAT) return null;
  if ((t.dims ?? []).reduce((a, d) => a * Number(d), 1) !== 1) return null;
  if (t.floatData?.length) return t.floatData[0];
  if (t.rawData?.length === 4) return new DataView(t.rawData.buffer, t.rawData.byteOffset, 4).getFloat32(0, true);
  return null;
}

/** Reads what the scale check needs from the graph. */
export function readScalingGraph(bytes: Uint8Array, architecture: string | null): ScalingGraph {
  const graph = decodeModel(bytes).graph!;
  const scalars = new Map<string, number>();
  for (const t of graph.initializer ?? []) {
    const v = scalarFloat(t);
    if (v !== null) scalars.set(t.name ?? '', v);
  }
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  // Nodes are topologically sorted (ONNX requires it), so one pass propagates input dependence.
  const dependent = new Set((graph.input ?? []).map((i) => i.name ?? '').filter((n) => !initializers.has(n)));
  const frozen: ScalingGraph['frozen'] = [];
  const runtimeLogs: string[] = [];
  let softmax = false;
  for (const node of graph.node ?? []) {
    const inputs = node.input ?? [];
    const outputs = node.output ?? [];
    if (node.opType === 'Constant') {
      const attr = (node.attribute ?? []).find((a) => a.name === 'value' || a.name === 'value_float');
      const v = attr?.name === 'value_float' ? (attr.f ?? null) : scalarFloat(attr?.t);
      if (v !== null && outputs[0]) scalars.set(outputs[0], v);
      continue;
    }
    if (node.opType === 'Softmax') softmax = true;
    if (inputs.some((i) => dependent.has(i))) for (const o of outputs) dependent.add(o);
    if (node.opType === 'Log' && dependent.has(inputs[0])) runtimeLogs.push(outputs[0]);
    if (node.opType === 'Mul' && inputs.length === 2) {
      for (const [c, x] of [[inputs[0], inputs[1]], [inputs[1], inputs[0]]]) {
        const v = scalars.get(c);
        if (v === undefined || !dependent.has(x) || !(v > 1)) continue;
        const n = Math.round(Math.exp(v));
        if (n >= 3 && n <= 1e6 && Math.abs(Math.exp(v) / n - 1) < 1e-5) frozen.push({ value: v, length: n, node: node.name || outputs[0] });
      }
    }
  }
  const declared = architecture !== null && /braincorl/i.test(architecture);
  return { applies: declared || (softmax && frozen.length > 0), frozen, runtimeLogs };
}

/** Same whole-number offset R with value = log(S + R) for every element, or null. */
function lengthOffset(t: HostTensor, S: number): number | null {
  const data = t.data as Float32Array;
  if (!data.length) return null;
  const R = Math.round(Math.exp(data[0]) - S);
  if (R < 0) return null;
  const expected = Math.log(S + R);
  return Array.from(data).every((v) => Math.abs(v - expected) <= 1e-5 * Math.max(1, expected)) ? R : null;
}

/**
 * Refuses (ContractError) an encoder the check applies to unless one of its Logs reads
 * log(S + R) at both context sizes. `run(S, outputs)` runs the graph at context size S, returning
 * the named intermediate outputs.
 */
export async function checkContextScaling(
  bytes: Uint8Array,
  architecture: string | null,
  sizes: [number, number],
  run: (bytes: Uint8Array, S: number, outputs: string[]) => Promise<Record<string, HostTensor>>,
): Promise<void> {
  const g = readScalingGraph(bytes, architecture);
  if (!g.applies) return;
  const why = g.frozen.length
    ? `its attention multiplies by the constant ${g.frozen[0].value.toFixed(6)} = log(${g.frozen[0].length}) (node ${g.frozen[0].node}), the sequence length of the example input it was traced with, where BraInCoRL takes the log of the runtime sequence length; such a graph is right only for contexts of exactly that length (${g.frozen[0].length} minus the register tokens) and silently wrong at every other size. This is what torch.onnx.export makes of the official module, whose math.log(x.shape[-2]) tracing turns into a constant`
    : `brainalign.architecture says BraInCoRL, whose attention scales queries by log(sequence length), but the graph`;
  if (!g.runtimeLogs.length)
    throw new ContractError(g.frozen.length ? `The model's context scaling is frozen: ${why}. To export the official model, ${CONVERT}` : `The model's context scaling is not computed from the context: ${why} takes no log of a value that depends on its inputs. To export the official model, ${CONVERT}`);
  const modified = decodeModel(bytes);
  for (const name of g.runtimeLogs) modified.graph!.output!.push({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
  const probe = onnx.ModelProto.encode(modified).finish();
  const [S1, S2] = sizes;
  const [a, b] = [await run(probe, S1, g.runtimeLogs), await run(probe, S2, g.runtimeLogs)];
  const follows = g.runtimeLogs.filter((name) => {
    const r1 = lengthOffset(a[name], S1);
    return r1 !== null && r1 === lengthOffset(b[name], S2);
  });
  if (!follows.length) {
    const seen = g.runtimeLogs.slice(0, 3).map((n) => `${n}: ${(a[n].data as Float32Array)[0]?.toFixed(4)} at S = ${S1}, ${(b[n].data as Float32Array)[0]?.toFixed(4)} at S = ${S2}`);
    throw new ContractError(
      `The model's context scaling does not follow the context size: ${g.frozen.length ? why + '; and' : 'brainalign.architecture says BraInCoRL, whose attention scales queries by log(sequence length), but'} none of its logs reads log(S + registers) at both S = ${S1} and S = ${S2} (${seen.join('; ')}). To export the official model, ${CONVERT}`,
    );
  }
}
