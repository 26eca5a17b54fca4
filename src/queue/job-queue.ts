// The queue seen by the API and the reconciler. PostgreSQL is the source of truth for a run; the
// queue only carries "please execute run X" and may lose it (Redis restart): the reconciler
// re-creates jobs from the Run rows, so every operation here must be idempotent.
import type { RunJob } from './contract';
import type { RunKind } from '../generated/prisma/enums';
import { RunKind as RunKinds } from '../generated/prisma/enums';

/** Every kind, in a stable order: one queue (and one BullMQ Worker) per kind. */
export const RUN_KINDS = Object.values(RunKinds) as RunKind[];

/**
 * Where a run's job is in the queue. `waiting` covers everything not yet running (waiting,
 * delayed for a retry backoff, prioritised, paused); `missing` means the queue holds nothing for it.
 */
export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'missing';

export interface JobStatus {
  state: JobState;
  /** Why the queue gave up on it, for `failed`. */
  failedReason?: string;
}

export interface EnqueueOptions {
  /**
   * Re-add even if a finished (completed/failed) job with this id is still kept for inspection.
   * Without it, enqueueing an id the queue already knows is a no-op, which is what the API wants.
   */
  replaceFinished?: boolean;
}

export interface JobQueue {
  /** Adds the job with id = runId; a no-op when that run is already queued or running. */
  enqueue(job: RunJob, options?: EnqueueOptions): Promise<void>;
  /**
   * Removes a waiting job and signals an active one wherever it runs (its handler sees the abort
   * signal at its next checkpoint). The caller records the request in PostgreSQL first
   * (see src/runs/cancel.ts) so a worker that misses the signal still stops.
   * `kind` narrows the search to one queue; without it every kind's queue is tried.
   */
  cancel(runId: string, kind?: RunKind): Promise<void>;
  /** Where the run's job is; used by the reconciler. */
  status(runId: string, kind?: RunKind): Promise<JobStatus>;
  /** True when the job is waiting or running (the queue will execute it without help). */
  has(runId: string, kind?: RunKind): Promise<boolean>;
  /** Resolves when the queue's store answers (health checks); absent for queues without one. */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

/** The queue's store (Redis) did not answer in time; the caller fails fast instead of hanging. */
export class QueueUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueUnavailableError';
  }
}

export const isLive = (state: JobState): boolean => state === 'waiting' || state === 'active';

export type { AttemptInfo, ExecuteJob } from './contract';
