// How benchmarks run their Python reference (numpy, PyTorch) at its best on this host, and how
// they report the settings each side ran with.
//
// Some of these machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for old OpenBLAS builds; with
// them a current numpy is forced onto an older kernel (Haswell) and runs up to 1.6x slower than
// with its own choice. A benchmark must compare against the strongest reference, so the Python
// child gets an environment without them. Tests and CI never go through here.
import { spawnSync, type SpawnSyncOptionsWithStringEncoding } from 'node:child_process';
import { availableParallelism } from 'node:os';

export const PYTHON = '/usr/bin/python3';

const FORCED_BLAS_SETTINGS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];

/** The environment for a reference child process: ours, minus the settings that slow it. */
export function referenceEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of FORCED_BLAS_SETTINGS) delete env[key];
  return env;
}

/** Runs a Python script of the reference side and returns its last stdout line parsed as JSON. */
export function runPython<T>(args: string[], options: Partial<SpawnSyncOptionsWithStringEncoding> = {}): T {
  const res = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 26, env: referenceEnv(), ...options });
  if (res.status !== 0) throw new Error(`reference (${args[0]}) failed: ${res.stderr || res.error}`);
  return JSON.parse(res.stdout.trim().split('\n').pop() as string) as T;
}

const SETTINGS_PROBE = `
import json, os
out = {}
try:
    import numpy
    from threadpoolctl import threadpool_info
    blas = [i for i in threadpool_info() if i.get('user_api') == 'blas']
    out['numpy_version'] = numpy.__version__
    out['numpy_kernel'] = (blas[0].get('internal_api', '') + ':' + str(blas[0].get('architecture'))) if blas else 'unknown'
    out['numpy_threads'] = blas[0].get('num_threads') if blas else None
except Exception as e:
    out['numpy_kernel'] = 'unknown (%s)' % e
try:
    import torch
    out['torch_version'] = torch.__version__
    out['torch_threads'] = torch.get_num_threads()
except Exception:
    pass
print(json.dumps(out))
`;

export interface ReferenceSettings {
  numpy_version?: string;
  numpy_kernel?: string;
  numpy_threads?: number | null;
  torch_version?: string;
  torch_threads?: number;
}

/** The BLAS kernel and thread counts the reference child actually gets (read with threadpoolctl). */
export function referenceSettings(): ReferenceSettings {
  try {
    return runPython<ReferenceSettings>(['-c', SETTINGS_PROBE]);
  } catch {
    return { numpy_kernel: 'unavailable' };
  }
}

/** The TypeScript side's settings, printed beside the reference's. */
export function onnxSettings(intraOpNumThreads = 0): { onnx_threads: number } {
  return { onnx_threads: intraOpNumThreads > 0 ? intraOpNumThreads : availableParallelism() };
}

/** `--repeat N`: how many times each side runs; benchmarks report the best of each. */
export function repeatCount(args: string[]): number {
  const i = args.indexOf('--repeat');
  return i >= 0 ? Math.max(1, Number(args[i + 1]) || 1) : 1;
}
