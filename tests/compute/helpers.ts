import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/compute/onnx';

export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'compute', name), 'utf8')) as T;
}

let engine: Promise<Engine> | undefined;
/** One CPU engine per test file (sessions are cached inside it). */
export function cpuEngine(): Promise<Engine> {
  engine ??= Engine.create({ executionProvider: 'cpu', intraOpNumThreads: 1 });
  return engine;
}

/** max |a - b| / max |b|: relative to the reference's scale, so tiny entries don't dominate. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}
