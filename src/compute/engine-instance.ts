// One ONNX Runtime engine per process, with the execution provider the configuration asks for.
// The service's entry points pass config.executionProvider (validated, empty meaning unset) before
// the first kernel runs; src/compute reads no configuration itself.
import { Engine, type ExecutionProviderChoice } from './onnx';

let engine: Promise<Engine> | undefined;
let choice: ExecutionProviderChoice = 'auto';

/** Sets the provider of the shared engine; called at start-up, before any kernel creates it. */
export function configureSharedEngine(executionProvider: ExecutionProviderChoice): void {
  if (engine && executionProvider !== choice) throw new Error(`The shared ONNX engine already runs with ${choice}; configure ${executionProvider} before the first kernel`);
  choice = executionProvider;
}

export function sharedEngine(): Promise<Engine> {
  engine ??= Engine.create({ executionProvider: choice });
  return engine;
}
