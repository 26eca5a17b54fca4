// JobQueue for the embedded profile: one process, no Redis. Same semantics as the BullMQ adapter
// (jobId = runId dedup, concurrency limit, exponential backoff retries for thrown errors, cancel
// through an AbortSignal, finished jobs remembered for a while) so the same executor and the same
// behavioural tests apply. Nothing survives a restart: the reconciler re-enqueues open runs.
import { CANCEL_REASON, SHUTDOWN_REASON } from './contract';
import { silentLog, type Log } from '../log';
import type { RunJob } from './contract';
import type { RunKind } from '../generated/prisma/enums';
import { isLive, type EnqueueOptions, type ExecuteJob, type JobQueue, type JobStatus } from './job-queue';

export interface InProcessQueueOptions {
  execute: ExecuteJob;
  /** Jobs run at once, all kinds together. */
  concurrency: number;
  attempts: number;
  /** First retry delay; doubles on each further attempt. */
  backoffMs?: number;
  /** Finished jobs remembered (like BullMQ's removeOnComplete/Fail counts). */
  keepFinished?: number;
  log?: Log;
}

interface Entry {
  job: RunJob;
  attempt: number;
}

export class InProcessJobQueue implements JobQueue {
  private readonly waiting: Entry[] = [];
  private readonly delayed = new Map<string, { entry: Entry; timer: NodeJS.Timeout }>();
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly finished = new Map<string, JobStatus>();
  private closed = false;
  private readonly log: Log;

  constructor(private readonly options: InProcessQueueOptions) {
    this.log = options.log ?? silentLog;
  }

  async enqueue(job: RunJob, options: EnqueueOptions = {}): Promise<void> {
    if (this.closed) throw new Error('The job queue is closed');
    const id = job.runId;
    if (this.active.has(id) || this.delayed.has(id) || this.waiting.some((e) => e.job.runId === id)) return;
    if (this.finished.has(id)) {
      if (!options.replaceFinished) return;
      this.finished.delete(id);
    }
    this.waiting.push({ job: { runId: job.runId, kind: job.kind }, attempt: 1 });
    this.pump();
  }

  async cancel(runId: string, _kind?: RunKind): Promise<void> {
    const i = this.waiting.findIndex((e) => e.job.runId === runId);
    if (i >= 0) this.waiting.splice(i, 1);
    const d = this.delayed.get(runId);
    if (d) {
      clearTimeout(d.timer);
      this.delayed.delete(runId);
    }
    this.active.get(runId)?.controller.abort(CANCEL_REASON);
  }

  async status(runId: string, _kind?: RunKind): Promise<JobStatus> {
    if (this.active.has(runId)) return { state: 'active' };
    if (this.delayed.has(runId) || this.waiting.some((e) => e.job.runId === runId)) return { state: 'waiting' };
    return this.finished.get(runId) ?? { state: 'missing' };
  }

  async has(runId: string, kind?: RunKind): Promise<boolean> {
    return isLive((await this.status(runId, kind)).state);
  }

  /** Number of jobs running now (tests and the embedded status page use it). */
  get activeCount(): number {
    return this.active.size;
  }

  /**
   * Drops waiting jobs, waits for running ones and, after graceMs, aborts them with
   * SHUTDOWN_REASON so the executor puts their runs back to QUEUED for the next start.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    const running = [...this.active.values()];
    const timer = setTimeout(() => running.forEach((a) => a.controller.abort(SHUTDOWN_REASON)), graceMs);
    await Promise.all(running.map((a) => a.done));
    clearTimeout(timer);
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.options.concurrency && this.waiting.length > 0) {
      this.start(this.waiting.shift()!);
    }
  }

  private start(entry: Entry): void {
    const { runId } = entry.job;
    const controller = new AbortController();
    const attempts = this.options.attempts;
    const done = this.options
      .execute(entry.job, { signal: controller.signal, attempt: entry.attempt, maxAttempts: attempts })
      .then((result) => {
        if (result.outcome === 'RELEASED') return; // shutting down; the reconciler re-enqueues it
        if (result.outcome === 'WAITING') return this.redeliverLater(entry, result.retryAfterMs ?? 1000);
        this.remember(runId, result.outcome === 'FAILED' ? { state: 'failed', failedReason: result.error?.message } : { state: 'completed' });
      })
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (entry.attempt < attempts && !this.closed) {
          const delay = (this.options.backoffMs ?? 10_000) * 2 ** (entry.attempt - 1);
          const next: Entry = { job: entry.job, attempt: entry.attempt + 1 };
          const timer = setTimeout(() => {
            this.delayed.delete(runId);
            this.waiting.unshift(next);
            this.pump();
          }, delay);
          this.delayed.set(runId, { entry: next, timer });
        } else {
          this.log('error', 'run failed on its last attempt', { runId, error: message });
          this.remember(runId, { state: 'failed', failedReason: message });
        }
      })
      .finally(() => {
        this.active.delete(runId);
        this.pump();
      });
    this.active.set(runId, { controller, done });
  }

  /** A run waiting on other runs: delivered again later, behind the jobs waiting now, same attempt. */
  private redeliverLater(entry: Entry, delayMs: number): void {
    if (this.closed) return; // the reconciler re-enqueues it on the next start
    const runId = entry.job.runId;
    const timer = setTimeout(() => {
      this.delayed.delete(runId);
      this.waiting.push(entry);
      this.pump();
    }, delayMs);
    this.delayed.set(runId, { entry, timer });
  }

  private remember(runId: string, status: JobStatus): void {
    this.finished.set(runId, status);
    const keep = this.options.keepFinished ?? 1000;
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.finished.size > keep) this.finished.delete(this.finished.keys().next().value as string);
  }
}

export function createInProcessQueue(options: InProcessQueueOptions): InProcessJobQueue {
  return new InProcessJobQueue(options);
}
