// "A run never disappears": PostgreSQL is the record, the queue is a delivery mechanism that can
// lose jobs (Redis restart without persistence, an obliterated queue, the embedded in-process
// queue after a restart). The reconciler compares the two and repairs the queue side. Every
// action is idempotent; still, only the runs of its own queue namespace (Run.queuePrefix, the
// QUEUE_PREFIX they were submitted to) are a reconciler's business, and of the reconcilers of one
// namespace (the API and every worker start one) only the holder of its lease in PostgreSQL acts.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
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
  /** Set when another reconciler of the namespace holds the lease: this pass did nothing. */
  leaseHeldBy?: string;
}

export interface ReconcileOptions {
  db: Db;
  queue: JobQueue;
  /** Open runs examined per pass, oldest first. */
  batchSize?: number;
  /** Narrows the runs examined (e.g. one lab); tests sharing a database scope their passes with it. */
  where?: Prisma.RunWhereInput;
  /**
   * The queue namespace (QUEUE_PREFIX) `queue` serves: only runs submitted to it are examined.
   * Omitted (tools and tests with a namespace of their own): every run.
   */
  namespace?: string;
  log?: Log;
}

export async function reconcileOnce(options: ReconcileOptions): Promise<ReconcileReport> {
  const { db, queue } = options;
  const log = options.log ?? silentLog;
  const report: ReconcileReport = { requeued: [], failed: [], cancelled: [] };
  const open = await db.run.findMany({
    where: { ...options.where, ...(options.namespace !== undefined ? { queuePrefix: options.namespace } : {}), status: { in: OPEN_STATUSES } },
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

export interface LeaseOptions {
  /** This reconciler's name in the lease row (default host:pid:random). */
  holder?: string;
  /** How long a pass's lease lasts (default 2 x intervalMs + 10 s): a dead holder is replaced after it. */
  leaseMs?: number;
  /**
   * Default true. False where nobody else can reconcile this queue (the embedded profile's
   * in-process queue lives in this process only): no lease, so a restart after a crash need not
   * wait for the dead process's lease to expire.
   */
  useLease?: boolean;
}

/**
 * Takes or renews the namespace's lease for `holder`: succeeds when nobody holds it, the holder
 * already does, or the current lease expired (its holder stopped). Returns the holder now.
 * PostgreSQL's clock decides expiry, so hosts' clocks need not agree.
 */
export async function acquireLease(db: Db, namespace: string, holder: string, leaseMs: number): Promise<{ acquired: boolean; holder: string }> {
  const rows = await db.$queryRaw<{ holder: string }[]>`
    INSERT INTO "ReconcilerLease" ("namespace", "holder", "expiresAt")
    VALUES (${namespace}, ${holder}, now() + ${leaseMs} * interval '1 millisecond')
    ON CONFLICT ("namespace") DO UPDATE SET "holder" = EXCLUDED."holder", "expiresAt" = EXCLUDED."expiresAt"
    WHERE "ReconcilerLease"."holder" = EXCLUDED."holder" OR "ReconcilerLease"."expiresAt" < now()
    RETURNING "holder"`;
  if (rows.length) return { acquired: true, holder };
  const current = await db.reconcilerLease.findUnique({ where: { namespace } });
  return { acquired: false, holder: current?.holder ?? 'unknown' };
}

/** Gives the lease up (on shutdown), so another reconciler need not wait for it to expire. */
export async function releaseLease(db: Db, namespace: string, holder: string): Promise<void> {
  await db.reconcilerLease.deleteMany({ where: { namespace, holder } });
}

/**
 * Reconciles at start and then every intervalMs. With a namespace, each pass first takes or
 * renews that namespace's lease and does nothing while another reconciler holds it.
 */
export function startReconciler(options: ReconcileOptions & LeaseOptions & { intervalMs: number }): Reconciler {
  const log = options.log ?? silentLog;
  const { namespace } = options;
  const holder = options.holder ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const leaseMs = options.leaseMs ?? 2 * options.intervalMs + 10_000;
  let held = false;
  const pass = async (): Promise<ReconcileReport> => {
    if (namespace !== undefined && options.useLease !== false) {
      const lease = await acquireLease(options.db, namespace, holder, leaseMs);
      if (!lease.acquired) {
        if (held) log('info', 'reconciler lease taken over by another process', { namespace, holder: lease.holder });
        held = false;
        return { requeued: [], failed: [], cancelled: [], leaseHeldBy: lease.holder };
      }
      if (!held) log('info', 'reconciling this queue namespace', { namespace, holder });
      held = true;
    }
    return reconcileOnce(options);
  };
  let current: Promise<ReconcileReport> | undefined;
  const runOnce = (): Promise<ReconcileReport> => {
    current ??= pass().finally(() => {
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
      if (namespace !== undefined && held && options.useLease !== false) await releaseLease(options.db, namespace, holder).catch(() => undefined);
    },
  };
}
