// Runs ridge plan tasks (ridge-plan.ts) on one long-lived worker thread, so a fit's float64
// decompositions (JavaScript loops and single-threaded engine calls, ~0.3 s each at d = 768) use a
// core while this thread's engine runs the voxel products. Started on first use and kept for later
// fits (starting costs ~1 s: loading the runtime and this code); referenced only while tasks are
// pending, so an idle worker never keeps the process alive. When the thread cannot start, callers
// fall back to running the tasks in their own thread (planInThread).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ComputeError, type ComputeErrorCode } from './errors';
import type { FoldGrams, FoldPlan, FoldPlanTask, GramsTask, PlanTask, RefitPlan, RefitPlanTask } from './ridge-plan';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

let worker: Worker | null = null;
let unavailable: string | null = null;
let nextId = 1;
let nextFit = 1;
const pending = new Map<number, Pending>();

/** How the worker file is loaded: compiled JavaScript directly, TypeScript sources through tsx. */
function workerSpec(): { file: string; execArgv: string[] } | null {
  const js = join(__dirname, 'ridge-plan-worker.js');
  if (existsSync(js)) return { file: js, execArgv: [] };
  const ts = join(__dirname, 'ridge-plan-worker.ts');
  if (!existsSync(ts)) return null;
  try {
    return { file: ts, execArgv: ['--require', require.resolve('tsx/cjs')] };
  } catch {
    return null;
  }
}

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

function start(): Worker | null {
  if (worker) return worker;
  if (unavailable) return null;
  const spec = workerSpec();
  if (!spec) {
    unavailable = 'worker file or TypeScript loader not found';
    return null;
  }
  try {
    const w = new Worker(spec.file, { execArgv: spec.execArgv });
    w.unref();
    w.on('message', (msg: { id: number; result?: unknown; error?: { code?: ComputeErrorCode | 'CANCELLED'; message: string } }) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (pending.size === 0) w.unref();
      if (msg.error) {
        const { code, message } = msg.error;
        p.reject(code && code !== 'CANCELLED' ? new ComputeError(code, message) : new Error(message));
      } else p.resolve(msg.result);
    });
    // A worker that fails takes its pending tasks with it, and later fits run their tasks in
    // their own thread (a retried run then succeeds there).
    w.on('error', (err) => {
      worker = null;
      unavailable = `decomposition worker failed: ${err.message}`;
      failAll(err);
    });
    w.on('exit', (code) => {
      worker = null;
      unavailable ??= `decomposition worker exited (code ${code})`;
      failAll(new Error(unavailable));
    });
    worker = w;
    return w;
  } catch (err) {
    unavailable = (err as Error).message;
    return null;
  }
}

/** One fit's tasks on the worker; cancel() drops those not yet started. */
export class PlanWorkerFit {
  private readonly fit = nextFit++;

  constructor(private readonly w: Worker) {}

  /** `transfer`: buffers of the task handed over instead of copied (unusable here afterwards). */
  run(task: GramsTask, transfer?: ArrayBuffer[]): Promise<FoldGrams>;
  run(task: FoldPlanTask): Promise<FoldPlan>;
  run(task: RefitPlanTask): Promise<RefitPlan>;
  run(task: PlanTask, transfer: ArrayBuffer[] = []): Promise<FoldGrams | FoldPlan | RefitPlan> {
    const id = nextId++;
    const result = new Promise<FoldGrams | FoldPlan | RefitPlan>((resolve, reject) => pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    this.w.ref();
    this.w.postMessage({ id, fit: this.fit, task }, transfer);
    return result;
  }

  cancel(): void {
    this.w.postMessage({ cancel: this.fit });
  }
}

/** A handle for one fit's tasks, or null when no worker thread can run here. */
export function planWorkerFit(): PlanWorkerFit | null {
  const w = start();
  return w ? new PlanWorkerFit(w) : null;
}
