// The contract between queued runs and the code that executes them. The same handlers run in the
// worker process (BullMQ) and in the embedded profile (in-process queue).
import type { Db, Tx } from '../db/client';
import type { Run, RunKind } from '../generated/prisma/client';
import type { ArtifactStore } from '../storage/artifact-store';

export type { RunKind };

/** What travels through the queue (src/queue/contract.ts): only the id; everything else is read from PostgreSQL. */
export type { RunJob } from '../queue/contract';

/** A score a handler produced; (metric, scope) is unique within a run so retries overwrite. */
export interface ScoreRecord {
  metric: string;
  scope?: string;
  roiId?: string | null;
  benchmarkId?: string | null;
  value: number;
  ciLow?: number | null;
  ciHigh?: number | null;
  normalized?: number | null;
  n?: number | null;
  extra?: Record<string, unknown>;
}

export interface JobContext {
  run: Run;
  params: Record<string, unknown>;
  db: Db;
  store: ArtifactStore;
  /** Aborted when the run is cancelled; handlers check it between batches. */
  signal: AbortSignal;
  /** Reports progress in [0, 1] with a short message; also throws if the run was cancelled. */
  progress(fraction: number, message: string): Promise<void>;
  /** Adds keys to the run's provenance (input hashes, execution provider, ...). */
  recordProvenance(entries: Record<string, unknown>): void;
  /** Which attempt this is (1-based); retried runs must not duplicate their writes. */
  attempt: number;
}

export interface JobResult {
  /** Named result artifacts (artifact ids). */
  outputs?: Record<string, string>;
  scores?: ScoreRecord[];
  /** Domain writes committed in the same transaction that marks the run SUCCEEDED. */
  commit?: (tx: Tx) => Promise<void>;
}

export type JobHandler = (ctx: JobContext) => Promise<JobResult>;

export type HandlerRegistry = Partial<Record<RunKind, JobHandler>>;

/**
 * Bad input found while running (malformed array, wrong shape): the run fails at once and is not
 * retried. Any other exception is treated as transient and retried with backoff.
 */
export class RunInputError extends Error {
  constructor(message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'RunInputError';
  }
}

/** Thrown inside handlers when the run was cancelled. */
export class RunCancelledError extends Error {
  constructor() {
    super('The run was cancelled');
    this.name = 'RunCancelledError';
  }
}

/**
 * Thrown by a handler whose run depends on other runs that have not ended yet (a sweep waiting for
 * its child runs). Not a failure and not an attempt: the run goes back to QUEUED with this progress
 * and message, and the queue delivers it again after `retryAfterMs`. PostgreSQL stays the ledger:
 * each delivery re-reads what it waits for, so a lost delayed job (re-enqueued by the reconciler)
 * or a restart changes nothing.
 */
export class RunWaitingError extends Error {
  constructor(
    readonly waitingFor: string,
    readonly progress: number,
    readonly retryAfterMs: number,
  ) {
    super(`Waiting for ${waitingFor}`);
    this.name = 'RunWaitingError';
  }
}
