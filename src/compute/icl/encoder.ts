// An in-context encoder loaded for use: its contract (./contract), an ONNX Runtime session shared
// through the process's engine (same execution-provider choice as every kernel, one session per
// model sha256), and the dry run registration performs.
import { createHash } from 'node:crypto';
import type { Engine, Graph, HostTensor } from '../onnx';
import { Rng } from '../random';
import { ContractError, readContract, type EncoderContract } from './contract';
import { checkContextScaling } from './scaling';

export interface InContextEncoder extends EncoderContract {
  sha256: string;
  /** Session handle for the engine: feeds every contract input, returns `weights`. */
  graph: Graph;
}

const loaded = new Map<string, InContextEncoder>();
/** Models kept parsed in memory (a trained encoder is tens of MB); least recently used goes first. */
const MAX_LOADED = 4;

/**
 * Reads the contract of an encoder's bytes and wraps them for the engine. Cached by sha256, so a
 * sweep of many calls (and many runs) creates the session once.
 */
export function loadEncoder(bytes: Uint8Array, sha256?: string): InContextEncoder {
  const key = sha256 ?? createHash('sha256').update(bytes).digest('hex');
  const hit = loaded.get(key);
  if (hit) {
    loaded.delete(key);
    loaded.set(key, hit);
    return hit;
  }
  const contract = readContract(bytes);
  const inputNames = contract.variant === 'three-input' ? ['ic_img', 'ic_nrn', 'unknown_img'] : ['ic_img', 'ic_nrn'];
  const encoder: InContextEncoder = {
    ...contract,
    sha256: key,
    graph: { name: `in-context encoder ${key.slice(0, 12)}`, singleThread: false, bytes, key: `icl:${key}`, inputNames, outputNames: ['weights'] },
  };
  loaded.set(key, encoder);
  while (loaded.size > MAX_LOADED) loaded.delete(loaded.keys().next().value!);
  return encoder;
}

/** Feeds for B voxels sharing one context of S images: ic_img and unknown_img tile the images. */
export interface EncoderFeeds {
  icImg: Float32Array;
  icNrn: Float32Array;
  unknownImg: Float32Array | null;
  batch: number;
  contextSize: number;
  queries: number;
}

export function encoderFeeds(encoder: InContextEncoder, f: EncoderFeeds): Record<string, HostTensor> {
  const E = encoder.featureWidth;
  const feeds: Record<string, HostTensor> = {
    ic_img: { data: f.icImg, dims: [f.batch, f.contextSize, E] },
    ic_nrn: { data: f.icNrn, dims: [f.batch, f.contextSize] },
  };
  if (encoder.variant === 'three-input') feeds.unknown_img = { data: f.unknownImg!, dims: [f.batch, f.queries, E] };
  return feeds;
}

/** Random inputs shaped as the contract says: unit-norm image rows, z-scored responses. */
function randomFeeds(encoder: InContextEncoder, B: number, S: number, Q: number): Record<string, HostTensor> {
  const E = encoder.featureWidth;
  const rng = new Rng(`in-context dry run ${S}`);
  const unitRows = (rows: number) => {
    const x = rng.fillNormal(new Float32Array(rows * E));
    for (let i = 0; i < rows; i++) {
      const row = x.subarray(i * E, (i + 1) * E);
      const norm = Math.hypot(...row) || 1;
      for (let j = 0; j < E; j++) row[j] /= norm;
    }
    return x;
  };
  const icNrn = new Float32Array(B * S);
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) icNrn[b * S + s] = S > 1 ? (s - (S - 1) / 2) / Math.sqrt((S * S - 1) / 12) : 0;
  return encoderFeeds(encoder, { icImg: unitRows(B * S), icNrn, unknownImg: unitRows(B * Q), batch: B, contextSize: S, queries: Q });
}

/** Context sizes of the dry run: a small one and a larger one, within the model's bound. */
export function dryRunSizes(maxContext: number | null): number[] {
  const small = Math.min(4, maxContext ?? 4);
  const large = Math.min(29, maxContext ?? 29);
  return large > small ? [small, large] : [small];
}

/**
 * Creates the session and runs the encoder on random inputs shaped as the contract says
 * (unit-norm image rows, z-scored responses) at two context sizes, checking that the outputs have
 * the contract's shapes and are finite, then that a BraInCoRL graph's attention scale follows the
 * context size (./scaling). Throws ContractError otherwise.
 */
export async function dryRun(engine: Engine, encoder: InContextEncoder): Promise<void> {
  const E = encoder.featureWidth;
  const B = 3;
  const Q = 2;
  const sizes = dryRunSizes(encoder.maxContext);
  const run = async (graph: Graph, S: number) => {
    try {
      return await engine.run(graph, randomFeeds(encoder, B, S, Q));
    } catch (err) {
      const message = (err as Error).message.split('\n')[0];
      throw new ContractError(`ONNX Runtime could not run the model on ${B} voxels with ${S} context images of width ${E} (${message}); the model must follow the in-context encoder contract`);
    }
  };
  for (const S of sizes) {
    const out = await run({ ...encoder.graph, outputNames: encoder.hasPred ? ['weights', 'pred'] : ['weights'] }, S);
    const expect = (name: string, dims: number[]) => {
      const t = out[name];
      if (!t || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))
        throw new ContractError(`On ${B} voxels with ${S} context images the model returned ${name} of shape [${t?.dims.join(', ') ?? ''}]; the contract expects [${dims.join(', ')}] ([B, E+1] for weights, [B, Q] for pred)`);
      if (!(t.data instanceof Float32Array)) throw new ContractError(`The model returned ${name} as ${t.data.constructor.name}; the contract expects float32`);
      const bad = t.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new ContractError(`On random unit-norm features and z-scored responses with ${S} context images the model returned a non-finite ${name} (${t.data[bad]} at position ${bad})`);
    };
    expect('weights', [B, E + 1]);
    if (encoder.hasPred) expect('pred', [B, Q]);
  }
  if (sizes.length === 2)
    await checkContextScaling(encoder.graph.bytes, encoder.architecture, sizes as [number, number], (bytes, S, outputNames) =>
      run({ ...encoder.graph, name: `${encoder.graph.name} scale probe`, bytes, key: `${encoder.graph.key}:scale-probe`, outputNames }, S),
    );
}
