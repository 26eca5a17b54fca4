// One ONNX Runtime engine per process, with the execution provider the configuration asks for.
import { Engine, type ExecutionProviderChoice } from './onnx';

let engine: Promise<Engine> | undefined;

export function sharedEngine(): Promise<Engine> {
  const requested = (process.env.ONNX_EXECUTION_PROVIDER ?? 'auto') as ExecutionProviderChoice;
  engine ??= Engine.create({ executionProvider: requested });
  return engine;
}
