// "A run never disappears": PostgreSQL is the record, the queue is a delivery mechanism that can
// lose jobs (Redis restart without persistence, an obliterated queue, the embedded in-process
// queue after a restart). The reconciler compares the two and repairs the queue side. Every
// action is idempotent, so several reconcilers (one per worker) may run at once.
import type { Db } from '../db/client';
import type { Prisma } from '../generated/prisma/client';
import { isLive, type JobQueue } from '../queue/job-queue';
import { silentLog, type Log } from '../log';
import { OPEN_STATUSES, isFinal, markCancelled, markFailed } from './transitions';
import type { RunJob } from './types';

export interface ReconcileReport {
  /** Runs whose job was missing (or finished while the run stayed open) and was added again. */
  requeued: RunJob[];
  /** RUNNING runs the queue had given up on (e.g. stalled too often): marked FAILED. */
  failed: string[];
  /** Runs with a pending cancel and no job left to honour it: marked CANCELLED. */
  cancelled: string[];
}

export interface ReconcileOptions {
  db: Db;
  queue: JobQueue;
  /** Open runs examined per pass, oldest first. */
  batchSize?: number;
  /** Narrows the runs examined (e.g. one lab); tests sharing a database scope their passes with it. */
  where?: Prisma.RunWhereInput;
  log?: Log;
}

export async function reconcileOnce(options: ReconcileOptions): Promise<ReconcileReport> {
  const { db, queue } = options;
  const log = options.log ?? silentLog;
  const report: ReconcileReport = { requeued: [], failed: [], cancelled: [] };
  const open = await db.run.findMany({
    where: { ...options.where, status: { in: OPEN_STATUSES } },
    select: { id: true, kind: true },
    orderBy: { createdAt: 'asc' },
    take: options.batchSize ?? 1000,
  });
  for (const { id, kind } of open) {
    const job = await queue.status(id, kind);
    if (isLive(job.state)) continue;
    // Re-read after the queue check: the run may have finished (and its job been trimmed) meanwhile.
    const run = await db.run.findUnique({ where: { id }, select: { status: true, cancelRequested: true } });
    if (!run || isFinal(run.status)) continue;
    if (run.cancelRequested) {
      if (await markCancelled(db, id)) report.cancelled.push(id);
    } else if (job.state === 'failed' && run.status === 'RUNNING') {
      // Re-adding would loop a run that crashes its worker; surface it instead.
      const message = `The queue gave up on this run (${job.failedReason ?? 'unknown reason'}); its worker probably crashed`;
      if (await markFailed(db, id, { code: 'INTERNAL', message })) report.failed.push(id);
    } else {
      await queue.enqueue({ runId: id, kind }, { replaceFinished: true });
      report.requeued.push({ runId: id, kind });
    }
  }
  if (report.requeued.length || report.failed.length || report.cancelled.length)
    log('info', 'reconciled runs with the queue', {
      requeued: report.requeued.map((j) => j.runId),
      failed: report.failed,
      cancelled: report.cancelled,
    });
  return report;
}

export interface Reconciler {
  /** The pass made at start. */
  first: Promise<ReconcileReport>;
  /** Runs a pass now (waits for one in progress instead of overlapping it). */
  runOnce(): Promise<ReconcileReport>;
  stop(): Promise<void>;
}

/** Reconciles at start and then every intervalMs. */
export function startReconciler(options: ReconcileOptions & { intervalMs: number }): Reconciler {
  const log = options.log ?? silentLog;
  let current: Promise<ReconcileReport> | undefined;
  const runOnce = (): Promise<ReconcileReport> => {
    current ??= reconcileOnce(options).finally(() => {
      current = undefined;
    });
    return current;
  };
  const first = runOnce();
  first.catch((err) => log('error', 'reconcile failed', { error: (err as Error).message }));
  const timer = setInterval(() => {
    runOnce().catch((err) => log('error', 'reconcile failed', { error: (err as Error).message }));
  }, options.intervalMs);
  // Never the reason a process stays alive; the queue's own connections decide that.
  timer.unref();
  return {
    first,
    runOnce,
    async stop() {
      clearInterval(timer);
      await current?.catch(() => undefined);
    },
  };
}
