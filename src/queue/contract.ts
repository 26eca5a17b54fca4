// The contract between the queue and the run executor, imported one way by both sides: the queue
// adapters (BullMQ, in-process) deliver RunJobs to an ExecuteJob with AttemptInfo and abort with
// these reasons; src/runs/executor.ts implements ExecuteJob and returns an ExecuteResult.
import type { RunKind } from '../generated/prisma/enums';

/** "Please execute run X": all a job carries (PostgreSQL holds the rest). */
export interface RunJob {
  runId: string;
  kind: RunKind;
}

/** Abort reasons. A shutdown hands the run back to the queue; anything else is a user cancel. */
export const SHUTDOWN_REASON = 'brainalign:worker-shutdown';
export const CANCEL_REASON = 'brainalign:run-cancelled';

/** What a consumer (BullMQ worker or in-process queue) knows about one delivery of a job. */
export interface AttemptInfo {
  signal: AbortSignal;
  /** 1-based. */
  attempt: number;
  maxAttempts: number;
}

/** Why a run failed, as stored on the Run row. */
export interface RunErrorInfo {
  code: 'BAD_INPUT' | 'INTERNAL' | 'NO_HANDLER';
  message: string;
  details?: Record<string, unknown>;
}

/**
 * SUCCEEDED / FAILED / CANCELLED: this call put the run in that final state.
 * RELEASED: handed back to the queue (worker shutting down). SKIPPED: nothing to do (missing, or
 * already final, e.g. a duplicate delivery of a finished run). WAITING: the run waits on other
 * runs (RunWaitingError) and is back to QUEUED; the queue delivers it again after retryAfterMs.
 */
export type ExecuteOutcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'RELEASED' | 'SKIPPED' | 'WAITING';

export interface ExecuteResult {
  outcome: ExecuteOutcome;
  error?: RunErrorInfo;
  /** For WAITING: when to deliver the run again. */
  retryAfterMs?: number;
}

/** Executes one delivery; throws to ask the queue for a retry (see executeRun in src/runs/executor.ts). */
export type ExecuteJob = (job: RunJob, attempt: AttemptInfo) => Promise<ExecuteResult>;
