// Cancelling a run from the API. The request is written to PostgreSQL before the queue is told,
// so it survives a lost pub/sub message or a worker that picks the job up a moment later: the
// executor checks Run.cancelRequested when it starts and at every progress write.
import type { Db } from '../db/client';
import type { Run } from '../generated/prisma/client';
import { QueueUnavailableError, type JobQueue } from '../queue/job-queue';
import { endImportedSet, markCancelled, OPEN_STATUSES } from './transitions';

/**
 * Cancels a run: a QUEUED one becomes CANCELLED at once (its job is removed); a RUNNING one is
 * flagged and its worker signalled, and the worker writes CANCELLED when the handler stops.
 * Cancelling a finished run changes nothing. A sweep's open child runs are cancelled with it.
 * Returns the run as it is now (null if unknown).
 */
export async function cancelRun(db: Db, queue: JobQueue, runId: string): Promise<Run | null> {
  const run = await db.run.findUnique({ where: { id: runId } });
  if (!run || !OPEN_STATUSES.includes(run.status)) return run;
  await db.run.updateMany({ where: { id: runId, status: { in: OPEN_STATUSES } }, data: { cancelRequested: true } });
  // After the parent's flag, so a sweep that sees a cancelled child also sees its own cancel.
  const openChildren = await db.run.findMany({ where: { parentRunId: runId, status: { in: OPEN_STATUSES } }, select: { id: true } });
  for (const child of openChildren) await cancelRun(db, queue, child.id);
  // Only a run nobody is executing may be finalised here; a RUNNING one is finalised by its worker.
  await db.$transaction(async (tx) => {
    const { count } = await tx.run.updateMany({
      where: { id: runId, status: 'QUEUED' },
      data: { status: 'CANCELLED', finishedAt: new Date(), progressMessage: 'Cancelled' },
    });
    if (count === 1) await endImportedSet(tx, runId, `its import run ${runId} was cancelled`);
  });
  try {
    await queue.cancel(runId, run.kind);
    // A RUNNING row whose job is no longer live (its worker died and the stalled job was just
    // removed above, or Redis lost it) has nobody left to finalise it.
    if (!(await queue.has(runId, run.kind))) await markCancelled(db, runId);
  } catch (err) {
    // Without the queue the recorded request still stops the run: its worker reads the flag at
    // its next progress write, and a job delivered later finds the run CANCELLED.
    if (!(err instanceof QueueUnavailableError)) throw err;
  }
  return db.run.findUnique({ where: { id: runId } });
}
