// The ONNX contract every in-context encoder satisfies (BraInCoRL's forward, as exported):
//   inputs  ic_img      float32 [B, S, E]  context image features, rows unit-norm
//           ic_nrn      float32 [B, S]     each voxel's context responses, z-scored per voxel
//           unknown_img float32 [B, Q, E]  optional (the official three-input variant)
//   outputs weights     float32 [B, E+1]   E readout weights, then the bias
//           pred        float32 [B, Q]     optional
// B (voxels), S (context size) and Q are dynamic; E is fixed by the model. Outputs are found by
// name. Optional metadata_props: brainalign.max_context, brainalign.feature_width,
// brainalign.architecture. This module reads the signature from the ModelProto and says, in a
// scientist's terms, what differs from the contract; the dry run lives in ./encoder.
import { onnx } from 'onnx-proto';

export const CONTRACT_SIGNATURE =
  'inputs ic_img float32 [B, S, E], ic_nrn float32 [B, S] (optionally unknown_img float32 [B, Q, E]) -> outputs weights float32 [B, E+1] (optionally pred float32 [B, Q]), with B and S dynamic and E fixed';

export type EncoderVariant = 'weights-only' | 'three-input';

/** What registration learns about an in-context encoder. */
export interface EncoderContract {
  variant: EncoderVariant;
  /** E: feature width the encoder reads (unit-norm feature rows). */
  featureWidth: number;
  /** Largest context size S the encoder accepts (metadata), or null when it sets no bound. */
  maxContext: number | null;
  architecture: string | null;
  /** Whether the encoder also returns `pred`. */
  hasPred: boolean;
  /** The signature found, for messages and provenance. */
  signature: string;
}

/** A mismatch with the contract; `field` is the registration argument it concerns. */
export class ContractError extends Error {
  constructor(
    message: string,
    readonly field: string = 'artifactId',
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

interface TensorSignature {
  name: string;
  elemType: number;
  /** null when the model leaves the rank unspecified. */
  dims: (number | string | null)[] | null;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const META = { maxContext: 'brainalign.max_context', featureWidth: 'brainalign.feature_width', architecture: 'brainalign.architecture' };

/** Decodes the ModelProto, refusing bytes that are not an ONNX model with a graph. */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ContractError(`The artifact is not an ONNX model (it does not decode as an ONNX ModelProto: ${(err as Error).message}); export the encoder with torch.onnx.export`);
  }
  if (!model.graph || !model.graph.node?.length || !model.graph.output?.length)
    throw new ContractError('The artifact is not an ONNX model (no graph with nodes and outputs was found); export the encoder with torch.onnx.export');
  return model;
}

function elemName(code: number): string {
  return (onnx.TensorProto.DataType[code] ?? `type ${code}`).toLowerCase().replace(/^float$/, 'float32').replace(/^double$/, 'float64');
}

function signatureOf(v: onnx.IValueInfoProto): TensorSignature {
  const tensor = v.type?.tensorType;
  const dims = tensor?.shape
    ? (tensor.shape.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : null))
    : null;
  return { name: v.name ?? '', elemType: tensor?.elemType ?? 0, dims };
}

function describe(t: TensorSignature): string {
  const dims = t.dims ? `[${t.dims.map((d) => (d === null ? '?' : d)).join(', ')}]` : '[unknown rank]';
  return `${t.name} ${elemName(t.elemType)} ${dims}`;
}

/** The model's signature as one line: inputs -> outputs. */
function describeAll(inputs: TensorSignature[], outputs: TensorSignature[]): string {
  return `inputs ${inputs.map(describe).join(', ') || '(none)'} -> outputs ${outputs.map(describe).join(', ') || '(none)'}`;
}

function metadata(model: onnx.ModelProto): Map<string, string> {
  return new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}

/**
 * Checks names, element types, ranks and fixed dimensions against the contract and reads E and
 * the context bound. Throws ContractError saying what was expected and what was found.
 */
export function readContract(bytes: Uint8Array): EncoderContract {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  // Older exporters list initializers among the inputs; those are weights, not feeds.
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(signatureOf);
  const outputs = (graph.output ?? []).map(signatureOf);
  const found = describeAll(inputs, outputs);
  const refuse = (what: string): never => {
    throw new ContractError(`The model does not follow the in-context encoder contract: ${what}. Expected ${CONTRACT_SIGNATURE}; found ${found}`);
  };

  const byName = new Map(inputs.map((t) => [t.name, t]));
  const icImg = byName.get('ic_img') ?? refuse('input ic_img is missing');
  const icNrn = byName.get('ic_nrn') ?? refuse('input ic_nrn is missing');
  const unknownImg = byName.get('unknown_img') ?? null;
  const extra = inputs.filter((t) => !['ic_img', 'ic_nrn', 'unknown_img'].includes(t.name));
  if (extra.length) refuse(`unexpected input${extra.length > 1 ? 's' : ''} ${extra.map((t) => t.name).join(', ')}`);
  const weights = outputs.find((t) => t.name === 'weights') ?? refuse('output weights is missing');
  const pred = outputs.find((t) => t.name === 'pred') ?? null;

  const checked: [TensorSignature, number][] = [[icImg, 3], [icNrn, 2], [weights, 2]];
  if (unknownImg) checked.push([unknownImg, 3]);
  if (pred) checked.push([pred, 2]);
  for (const [t, rank] of checked) {
    if (t.elemType !== FLOAT) refuse(`${t.name} is ${elemName(t.elemType)}, not float32`);
    if (t.dims && t.dims.length !== rank) refuse(`${t.name} has rank ${t.dims.length}, not ${rank}`);
  }
  const fixed = (t: TensorSignature, axis: number) => (typeof t.dims?.[axis] === 'number' ? (t.dims[axis] as number) : null);
  // B and S vary per call (voxel batches, context sizes): a fixed size means a too-static export.
  for (const [t, axis, what] of [[icImg, 0, 'B'], [icImg, 1, 'S'], [icNrn, 0, 'B'], [icNrn, 1, 'S'], [weights, 0, 'B']] as const) {
    const n = fixed(t, axis);
    if (n !== null) refuse(`${t.name} has a fixed ${what} = ${n}; ${what} must be dynamic (export with dynamic_axes)`);
  }

  const meta = metadata(model);
  const widths: [string, number][] = [];
  const e = fixed(icImg, 2);
  if (e !== null) widths.push(['ic_img dimension 2', e]);
  const w1 = fixed(weights, 1);
  if (w1 !== null) widths.push(['weights dimension 1 minus 1', w1 - 1]);
  if (unknownImg && fixed(unknownImg, 2) !== null) widths.push(['unknown_img dimension 2', fixed(unknownImg, 2)!]);
  if (meta.has(META.featureWidth)) widths.push([META.featureWidth, positiveInt(meta.get(META.featureWidth)!, META.featureWidth, refuse)]);
  if (widths.length === 0) refuse('the feature width E is not fixed anywhere (ic_img dimension 2, weights dimension 1 or brainalign.feature_width)');
  const featureWidth = widths[0][1];
  const disagree = widths.find(([, w]) => w !== featureWidth);
  if (disagree) refuse(`the feature width disagrees: ${widths.map(([where, w]) => `${where} gives E = ${w}`).join(', ')}`);

  const maxContext = meta.has(META.maxContext) ? positiveInt(meta.get(META.maxContext)!, META.maxContext, refuse) : null;
  return {
    variant: unknownImg ? 'three-input' : 'weights-only',
    featureWidth,
    maxContext,
    architecture: meta.get(META.architecture) ?? null,
    hasPred: pred !== null,
    signature: found,
  };
}

function positiveInt(value: string, key: string, refuse: (what: string) => never): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) refuse(`metadata ${key} = ${JSON.stringify(value)} is not a positive integer`);
  return n;
}
