import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type Graph, type HostTensor } from '../../src/compute/onnx';
import { decodeNpy, toFloat32 } from '../../src/storage';

export const MODEL_DIR = join(__dirname, '..', '..', 'models', 'braincorl');
export const FIXTURE_DIR = join(__dirname, '..', 'fixtures', 'icl');

/** An exported ONNX file as a graph the project's engine runs (sessions cached by content hash). */
export function onnxFileGraph(path: string, inputNames: string[], outputNames: string[]): Graph {
  const bytes = new Uint8Array(readFileSync(path));
  const key = createHash('sha256').update(bytes).digest('hex');
  return { name: path, singleThread: false, bytes, key, inputNames, outputNames };
}

export function readNpyFile(path: string): HostTensor<Float32Array> {
  const a = decodeNpy(new Uint8Array(readFileSync(path)), { copy: true });
  return { data: toFloat32(a), dims: a.shape };
}

let engine: Promise<Engine> | undefined;
/** One CPU engine per test file; release it in afterAll. */
export function cpuEngine(): Promise<Engine> {
  engine ??= Engine.create({ executionProvider: 'cpu', intraOpNumThreads: 1 });
  return engine;
}

export async function releaseEngine(): Promise<void> {
  const e = engine;
  engine = undefined;
  if (e) await (await e).release();
}

/** max |a - b| */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
