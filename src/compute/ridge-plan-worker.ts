// Entry of the decomposition worker thread (started by ridge-plan-pool.ts): runs plan tasks
// (ridge-plan.ts) one after another on its own CPU engine with one intra-op thread, so the float64
// decompositions of a ridge fit use a core while the calling thread's engine runs voxel products.
// Messages in: { id, fit, task } or { cancel: fit }; out: { id, result } or { id, error }.
import { parentPort } from 'node:worker_threads';
import { ComputeError } from './errors';
import { Engine } from './onnx/engine';
import { runPlanTask, type PlanTask } from './ridge-plan';

interface TaskMessage {
  id: number;
  fit: number;
  task: PlanTask;
}

const port = parentPort;
if (port) {
  const engine = Engine.create({ executionProvider: 'cpu', intraOpNumThreads: 1 });
  const queue: TaskMessage[] = [];
  const cancelled = new Set<number>();
  let running = false;
  const drain = async () => {
    if (running) return;
    running = true;
    while (queue.length) {
      const msg = queue.shift() as TaskMessage;
      if (cancelled.has(msg.fit)) {
        port.postMessage({ id: msg.id, error: { code: 'CANCELLED', message: 'fit cancelled' } });
        continue;
      }
      try {
        const result = await runPlanTask(await engine, msg.task);
        port.postMessage({ id: msg.id, result });
      } catch (err) {
        const e = err as Error;
        port.postMessage({ id: msg.id, error: { code: err instanceof ComputeError ? err.code : undefined, message: e.message } });
      }
    }
    running = false;
  };
  port.on('message', (msg: TaskMessage | { cancel: number }) => {
    if ('cancel' in msg) {
      cancelled.add(msg.cancel);
      return;
    }
    queue.push(msg);
    void drain();
  });
}
