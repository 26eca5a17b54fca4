// The execution engine every kernel takes. It owns the ONNX Runtime sessions (one per distinct
// graph, cached) and the execution-provider decision, and reports which provider actually ran so a
// run can record it in its provenance.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ComputeError } from '../errors';
import { GraphBuilder, type Graph } from './graph';

/** What configuration asks for. `auto` takes CUDA when the runtime offers it, CPU otherwise. */
export type ExecutionProviderChoice = 'cuda' | 'cpu' | 'auto';
/** What actually runs. */
export type ExecutionProvider = 'cuda' | 'cpu';

export type HostArray = Float32Array | Float64Array | BigInt64Array;

/** A tensor in host memory: row-major `data` of length prod(dims). */
export interface HostTensor<A extends HostArray = HostArray> {
  data: A;
  dims: readonly number[];
}

export interface EngineConfig {
  executionProvider?: ExecutionProviderChoice;
  /** ONNX Runtime intra-op threads for CPU kernels; 0 lets the runtime choose (one per core). */
  intraOpNumThreads?: number;
  cudaDeviceId?: number;
  /** Most sessions kept; the least recently used is released beyond it. */
  maxSessions?: number;
  /**
   * Let idle intra-op threads spin between parallel sections (ONNX Runtime's own default). Default
   * false: on a shared 2-core machine spinning threads steal the cores the working threads need;
   * measured here under load, a ridge fit (n 2000, d 256, 4000 voxels) took 2.7-5.0 s spinning
   * and 1.5-2.1 s not, the chains of small decomposition calls suffering most.
   */
  allowSpinning?: boolean;
}

/** What a run records about where its arithmetic ran. */
export interface EngineProvenance {
  requested: ExecutionProviderChoice;
  provider: ExecutionProvider;
  onnxruntimeVersion: string;
  intraOpNumThreads: number;
  /** Why `auto` fell back to CPU, when it did. */
  fallbackReason?: string;
}

const probeCache = new Map<string, Promise<string | null>>();

/** Returns null when a CUDA session can be created, else the reason it cannot. */
function probeCuda(deviceId: number): Promise<string | null> {
  const key = String(deviceId);
  let probe = probeCache.get(key);
  if (!probe) {
    probe = (async () => {
      const offered = ort.listSupportedBackends().some((b) => b.name === 'cuda');
      if (!offered) return 'this onnxruntime-node build lists no CUDA backend';
      // The CUDA provider is a separate library that onnxruntime-node's install script downloads
      // (ONNXRUNTIME_NODE_INSTALL=cuda12); without it, say so instead of letting the runtime log
      // a load failure.
      const library = cudaProviderLibrary();
      if (library && !existsSync(library)) return `CUDA provider library not installed (${library}); install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a GPU host`;
      // The native loader logs its failure at error level; keep the probe quiet.
      const previous = ort.env.logLevel;
      ort.env.logLevel = 'fatal';
      try {
        const g = new GraphBuilder('cuda_probe');
        g.output(g.node('Identity', [g.input('x', 'float32', [1])]), 'y', 'float32', [1]);
        const session = await ort.InferenceSession.create(g.build().bytes, {
          executionProviders: [{ name: 'cuda', deviceId }],
          logSeverityLevel: 4,
        });
        await session.release();
        return null;
      } catch (err) {
        return `CUDA execution provider could not start: ${(err as Error).message.split('\n')[0]}`;
      } finally {
        ort.env.logLevel = previous;
      }
    })();
    probeCache.set(key, probe);
  }
  return probe;
}

/** Where onnxruntime-node keeps its CUDA provider library on this platform (null if unknown). */
function cudaProviderLibrary(): string | null {
  if (process.platform !== 'linux' && process.platform !== 'win32') return null;
  try {
    const root = dirname(dirname(require.resolve('onnxruntime-node')));
    const file = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return join(root, 'bin', 'napi-v6', process.platform, process.arch, file);
  } catch {
    return null;
  }
}

export class Engine {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly maxSessions: number;
  private readonly intraOpNumThreads: number;

  private constructor(
    readonly provider: ExecutionProvider,
    private readonly config: EngineConfig,
    private readonly fallbackReason?: string,
  ) {
    this.maxSessions = config.maxSessions ?? 64;
    this.intraOpNumThreads = config.intraOpNumThreads ?? 0;
  }

  /** Resolves the provider now, so a `cuda` request that cannot be met fails before any work. */
  static async create(config: EngineConfig = {}): Promise<Engine> {
    const requested = config.executionProvider ?? 'auto';
    if (requested === 'cpu') return new Engine('cpu', config);
    const reason = await probeCuda(config.cudaDeviceId ?? 0);
    if (reason === null) return new Engine('cuda', config);
    if (requested === 'cuda') throw new ComputeError('EXECUTION_PROVIDER_UNAVAILABLE', reason);
    return new Engine('cpu', config, reason);
  }

  get provenance(): EngineProvenance {
    return {
      requested: this.config.executionProvider ?? 'auto',
      provider: this.provider,
      onnxruntimeVersion: ort.env.versions.common,
      intraOpNumThreads: this.intraOpNumThreads,
      ...(this.fallbackReason ? { fallbackReason: this.fallbackReason } : {}),
    };
  }

  /** Number of cached sessions (for tests and diagnostics). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private session(graph: Graph): Promise<ort.InferenceSession> {
    const cached = this.sessions.get(graph.key);
    if (cached) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.sessions.delete(graph.key);
      this.sessions.set(graph.key, cached);
      return cached;
    }
    const providers: ort.InferenceSession.ExecutionProviderConfig[] =
      this.provider === 'cuda' ? [{ name: 'cuda', deviceId: this.config.cudaDeviceId ?? 0 }, 'cpu'] : ['cpu'];
    const created = ort.InferenceSession.create(graph.bytes, {
      executionProviders: providers,
      intraOpNumThreads: graph.singleThread ? 1 : this.intraOpNumThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: this.config.allowSpinning ? '1' : '0' } } },
    });
    this.sessions.set(graph.key, created);
    created.catch(() => this.sessions.delete(graph.key));
    while (this.sessions.size > this.maxSessions) {
      const [oldestKey, oldest] = this.sessions.entries().next().value as [string, Promise<ort.InferenceSession>];
      this.sessions.delete(oldestKey);
      void oldest.then((s) => s.release()).catch(() => undefined);
    }
    return created;
  }

  /** Runs `graph` on `feeds` (one per graph input) and returns every graph output. */
  async run(graph: Graph, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const session = await this.session(graph);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of graph.inputNames) {
      const t = feeds[name];
      if (!t) throw new ComputeError('INVALID_ARGUMENT', `graph ${graph.name}: missing input ${name}`);
      ortFeeds[name] = new ort.Tensor(tensorType(t.data), t.data, t.dims as number[]);
    }
    const results = await session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const name of graph.outputNames) {
      const r = results[name];
      out[name] = { data: r.data as HostArray, dims: r.dims };
    }
    return out;
  }

  /** Releases every session. The engine can still be used; sessions are recreated on demand. */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.release()).catch(() => undefined)));
  }
}

function tensorType(data: HostArray): 'float32' | 'float64' | 'int64' {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  return 'int64';
}
