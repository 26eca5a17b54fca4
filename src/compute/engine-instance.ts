// One ONNX Runtime engine per process, with the execution provider and thread count the
// configuration asks for. The service's entry points pass config.executionProvider (validated, empty
// meaning unset) and the thread count before the first kernel runs; src/compute reads no
// configuration itself.
import { availableParallelism } from 'node:os';
import { Engine, type ExecutionProviderChoice } from './onnx';

let engine: Promise<Engine> | undefined;
let choice: ExecutionProviderChoice = 'auto';
let threads = 0;

/**
 * Intra-op threads when configuration leaves them to the host: its cores shared evenly by the jobs
 * a worker runs at once, so concurrent jobs' products do not oversubscribe the cores.
 */
export function defaultOnnxThreads(concurrency: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, concurrency)));
}

/**
 * Sets the provider and threads of the shared engine; called at start-up, before any kernel creates
 * it. A thread count given after that is ignored (it changes speed, never results); a different
 * provider is an error.
 */
export function configureSharedEngine(executionProvider: ExecutionProviderChoice, intraOpNumThreads = 0): void {
  if (engine && executionProvider !== choice) throw new Error(`The shared ONNX engine already runs with ${choice}; configure ${executionProvider} before the first kernel`);
  if (engine) return;
  choice = executionProvider;
  threads = intraOpNumThreads;
}

export function sharedEngine(): Promise<Engine> {
  engine ??= Engine.create({ executionProvider: choice, intraOpNumThreads: threads });
  return engine;
}
