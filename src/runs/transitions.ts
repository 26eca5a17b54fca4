// Status changes of a Run, each a conditional UPDATE so that concurrent actors (a retried job, a
// stalled worker that wakes up, the reconciler, a cancel from the API) can never move a run out
// of a final state or overwrite each other's outcome: whoever matches the condition first wins.
import type { Db, Tx } from '../db/client';
import { Prisma, type RunKind, type RunStatus } from '../generated/prisma/client';
import { importSessionsParams } from '../jobs/import-sessions';
import { importFeaturesParams, importResponsesParams } from '../jobs/io/import-frame';

/** States a run can still leave; SUCCEEDED, FAILED and CANCELLED are final. */
export const OPEN_STATUSES: RunStatus[] = ['QUEUED', 'RUNNING'];

export const isFinal = (status: RunStatus): boolean => !OPEN_STATUSES.includes(status);

/** Stored in Run.error. BAD_INPUT: the scientist must fix an input; INTERNAL: our side failed. */
export type { RunErrorInfo } from '../queue/contract';
import type { RunErrorInfo } from '../queue/contract';

type Extra = { provenance?: Record<string, unknown>; progressMessage?: string };

function extraData(extra: Extra) {
  return {
    ...(extra.provenance ? { provenance: extra.provenance as Prisma.InputJsonObject } : {}),
    ...(extra.progressMessage !== undefined ? { progressMessage: extra.progressMessage } : {}),
  };
}

/** QUEUED/RUNNING -> CANCELLED. Returns whether this call made the change. */
export async function markCancelled(db: Db, runId: string, extra: Extra = {}): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.run.updateMany({
      where: { id: runId, status: { in: OPEN_STATUSES } },
      data: { status: 'CANCELLED', cancelRequested: true, finishedAt: new Date(), progressMessage: 'Cancelled', ...extraData(extra) },
    });
    if (count === 1) await endImportedSet(tx, runId, `its import run ${runId} was cancelled`);
    return count === 1;
  });
}

/** QUEUED/RUNNING -> FAILED with a stable error code. Returns whether this call made the change. */
export async function markFailed(db: Db, runId: string, error: RunErrorInfo, extra: Extra = {}): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.run.updateMany({
      where: { id: runId, status: { in: OPEN_STATUSES } },
      data: {
        status: 'FAILED',
        error: error as unknown as Prisma.InputJsonObject,
        finishedAt: new Date(),
        progressMessage: `Failed: ${error.message}`.slice(0, 500),
        ...extraData(extra),
      },
    });
    if (count === 1) await endImportedSet(tx, runId, `its import run ${runId} failed: ${error.message}`);
    return count === 1;
  });
}

/** The set an import run fills: its column, and its id read through the job's parameter schema. */
const IMPORTED_SET: Partial<Record<RunKind, { key: 'responseSetId' | 'featureSetId'; id: (params: unknown) => string | undefined }>> = {
  IMPORT_RESPONSES: { key: 'responseSetId', id: (p) => importResponsesParams.pick({ responseSetId: true }).safeParse(p).data?.responseSetId },
  IMPORT_SESSIONS: { key: 'responseSetId', id: (p) => importSessionsParams.pick({ responseSetId: true }).safeParse(p).data?.responseSetId },
  IMPORT_FEATURES: { key: 'featureSetId', id: (p) => importFeaturesParams.pick({ featureSetId: true }).safeParse(p).data?.featureSetId },
};

/**
 * An import run that ends without success leaves its set FAILED (never IMPORTING or PENDING for
 * good), so the same name can be imported again. Called in the transaction of the run's final
 * transition; a newer import of the same set that is still open keeps the set as it is.
 */
export async function endImportedSet(tx: Tx, runId: string, reason: string): Promise<void> {
  const run = await tx.run.findUnique({ where: { id: runId }, select: { kind: true, params: true } });
  if (!run) return;
  const imported = IMPORTED_SET[run.kind];
  const setId = imported?.id(run.params);
  if (!imported || setId === undefined) return;
  const key = imported.key;
  const newer = await tx.run.count({
    where: { id: { not: runId }, kind: run.kind, status: { in: OPEN_STATUSES }, params: { path: [key], equals: setId } },
  });
  if (newer > 0) return;
  const data = { status: 'FAILED' as const, error: `Not imported: ${reason}`.slice(0, 2000) };
  const where = { id: setId, status: { in: ['PENDING' as const, 'IMPORTING' as const] } };
  if (key === 'responseSetId') await tx.responseSet.updateMany({ where, data });
  else await tx.featureSet.updateMany({ where, data });
}

/**
 * RUNNING -> QUEUED: the job goes back to the queue (retry after a transient error, or released by
 * a worker that is shutting down), so a cancel in the meantime takes the fast path in cancelRun.
 */
export async function markRequeued(db: Db, runId: string, message: string, extra: Extra = {}): Promise<boolean> {
  const { count } = await db.run.updateMany({
    where: { id: runId, status: 'RUNNING' },
    data: { status: 'QUEUED', ...extraData(extra), progressMessage: message.slice(0, 500) },
  });
  return count === 1;
}

/**
 * RUNNING -> QUEUED for a run that waits on other runs (RunWaitingError): the delivery that found
 * them still open does not count as an attempt, and the run shows how far what it waits for got.
 * Only an un-cancelled run is parked; a cancel in the meantime is finalised by the next delivery.
 */
export async function markWaiting(db: Db, runId: string, progress: number, message: string, extra: Extra = {}): Promise<boolean> {
  const { count } = await db.run.updateMany({
    where: { id: runId, status: 'RUNNING', cancelRequested: false },
    data: { status: 'QUEUED', attempts: { decrement: 1 }, progress, ...extraData(extra), progressMessage: message.slice(0, 500) },
  });
  return count === 1;
}
