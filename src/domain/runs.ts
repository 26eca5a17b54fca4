// Submitting and cancelling runs. A run is written to PostgreSQL first and enqueued after the
// commit; if the enqueue is lost, the reconciler re-enqueues it from PostgreSQL.
import { isDeepStrictEqual } from 'node:util';
import type { Tx } from '../db/client';
import { badInput, conflict, unavailable } from '../errors';
import { QueueUnavailableError } from '../queue/job-queue';
import type { Prisma, Run, RunKind, Visibility } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { runReadableWhere } from '../access/readability';
import { assertCanWrite, visibleOrThrow } from './access';
import { benchmarkDatasetIds, deriveRunAccess, unique, type RunInputs } from './run-access';
import { requireName, requireUuid } from './validate';
import { cancelRun as requestCancel } from '../runs/cancel';
import type { JobModule } from '../jobs/define';
import type { z } from 'zod';

export interface RunRequest {
  labId: string;
  kind: RunKind;
  params: Record<string, unknown>;
  idempotencyKey?: string | null;
  benchmarkId?: string | null;
  /** The model and subject evaluated, where the kind has them (leaderboards filter on them). */
  modelId?: string | null;
  subjectId?: string | null;
  /**
   * Everything the run reads whose visibility bounds its own (src/domain/run-access.ts): readers
   * of the run must be able to read all of them. The benchmark's datasets are added here.
   */
  inputs: RunInputs;
  /** The run's own setting, which its inputs can only narrow (default PUBLIC: the inputs decide). */
  ownVisibility?: Visibility;
  /**
   * Child runs of a sweep: created in the same transaction with parentRunId set (same lab, model,
   * subject and inputs, the parent among them; no benchmark, no idempotency key of their own) and enqueued before
   * the parent, which aggregates them once they have ended.
   */
  children?: { kind: RunKind; params: Record<string, unknown> }[];
}

/**
 * A submission's parameters parsed by the kind's schema (defaults filled); the first problem is a
 * BAD_USER_INPUT naming the field (`alphas[1]`, `layers[0].featureSetId`).
 */
export function parseParams<S extends z.ZodType>(job: JobModule<S> | S, raw: unknown): z.output<S> {
  const schema: S = 'handle' in job ? job.params : job;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${String(k)}` : String(k))).join('');
  // Messages that already name their field are kept as they are.
  const named = field && issue.message.startsWith(String(issue.path[0]));
  throw badInput(named || !field ? issue.message : `${field}: ${issue.message}`, field || undefined);
}

/** What a kind's domain module says about a submission; the kind and the schema come from its job. */
export type JobRunRequest = Omit<RunRequest, 'kind'>;

/**
 * Submits a run of the job's kind. The parameters as they will be recorded (after `prepare` has
 * added the ids it creates) must parse by the job's schema, so the worker's parse cannot fail;
 * they are recorded as given (a domain module that checks them against the database parses them
 * first, with parseParams, and passes the parsed value).
 */
export function submitRun<S extends z.ZodType>(
  ctx: DomainContext,
  job: JobModule<S>,
  request: JobRunRequest,
  prepare?: (tx: Tx, params: Record<string, unknown>) => Promise<Record<string, unknown> | void>,
): Promise<{ run: Run; created: boolean }> {
  return submitRunOfKind(ctx, { ...request, kind: job.kind }, async (tx, params) => {
    const recorded = (prepare && (await prepare(tx, params))) || params;
    parseParams(job, recorded);
    return recorded;
  });
}

/**
 * Creates the run (and whatever `prepare` writes in the same transaction), then enqueues it.
 * The same idempotency key returns the same run; reusing it for different work is a CONFLICT.
 */
export async function submitRunOfKind(
  ctx: DomainContext,
  request: RunRequest,
  prepare?: (tx: Tx, params: Record<string, unknown>) => Promise<Record<string, unknown> | void>,
): Promise<{ run: Run; created: boolean }> {
  const key = request.idempotencyKey ? requireName(request.idempotencyKey, 'idempotencyKey') : null;
  if (key) {
    const existing = await findByKey(ctx, request.labId, key);
    if (existing) return { run: sameRequestOrConflict(existing, request), created: false };
  }
  let run: Run;
  try {
    run = await ctx.db.$transaction(async (tx) => {
      const params = (prepare && (await prepare(tx, request.params))) || request.params;
      const inputs: RunInputs = {
        datasetIds: unique([...request.inputs.datasetIds, ...(await benchmarkDatasetIds(tx, request.benchmarkId))]),
        modelIds: unique(request.inputs.modelIds),
        runIds: unique(request.inputs.runIds),
      };
      const own = { labId: request.labId, ownVisibility: request.ownVisibility ?? 'PUBLIC', ownSharedWith: [] };
      const access = await deriveRunAccess(tx, own, inputs);
      const recorded = { inputDatasetIds: inputs.datasetIds, inputModelIds: inputs.modelIds, inputRunIds: inputs.runIds, ...access };
      const parent = await tx.run.create({
        data: {
          labId: request.labId,
          kind: request.kind,
          params: params as Prisma.InputJsonValue,
          idempotencyKey: key,
          benchmarkId: request.benchmarkId ?? null,
          modelId: request.modelId ?? null,
          subjectId: request.subjectId ?? null,
          ownVisibility: own.ownVisibility,
          ...recorded,
          queuePrefix: ctx.services.config.queuePrefix,
        },
      });
      for (const child of request.children ?? [])
        await tx.run.create({
          data: {
            labId: request.labId,
            kind: child.kind,
            params: child.params as Prisma.InputJsonValue,
            modelId: request.modelId ?? null,
            subjectId: request.subjectId ?? null,
            // A child reveals what its parent does: it follows the parent, whatever is set on it later.
            ...recorded,
            inputRunIds: [...inputs.runIds, parent.id],
            parentRunId: parent.id,
            queuePrefix: ctx.services.config.queuePrefix,
          },
        });
      return parent;
    });
  } catch (err) {
    // Two clients racing with one key: the loser returns the winner's run.
    const existing = key ? await findByKey(ctx, request.labId, key) : null;
    if (existing) return { run: sameRequestOrConflict(existing, request), created: false };
    throw err;
  }
  const children = request.children?.length
    ? await ctx.db.run.findMany({ where: { parentRunId: run.id }, select: { id: true, kind: true }, orderBy: { createdAt: 'asc' } })
    : [];
  let unreachable: Error | undefined;
  for (const job of [...children, run]) {
    if (unreachable) break; // the first timeout says enough; the reconciler queues the rest
    await ctx.services.queue.enqueue({ runId: job.id, kind: job.kind }).catch((err: Error) => {
      console.warn(`run ${job.id} stays QUEUED until the reconciler enqueues it: ${err.message}`);
      if (err instanceof QueueUnavailableError) unreachable = err;
    });
  }
  // The run is saved; the client learns at once that it is not queued yet, rather than waiting.
  if (unreachable)
    throw unavailable(
      `The job queue is unreachable (${unreachable.message}). Run ${run.id} is saved as QUEUED and will be queued automatically when the queue is back; ` +
        'submitting again with the same idempotencyKey returns this run',
      { runId: run.id, status: run.status },
    );
  return { run, created: true };
}

function findByKey(ctx: DomainContext, labId: string, key: string) {
  return ctx.db.run.findUnique({ where: { labId_idempotencyKey: { labId, idempotencyKey: key } } });
}

/**
 * The recorded parameters key by key, as written. The idempotency check compares them with the new
 * request as given, not as a schema would read them: defaults it fills in were never recorded.
 */
function jsonFields(json: Prisma.JsonValue): Record<string, unknown> {
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {};
}

function sameRequestOrConflict(existing: Run, request: RunRequest): Run {
  const sameKind = existing.kind === request.kind;
  const recorded = jsonFields(existing.params);
  const sameInputs = Object.entries(request.params).every(([k, v]) => isDeepStrictEqual(recorded[k], v));
  if (!sameKind || !sameInputs)
    throw conflict(`idempotencyKey ${JSON.stringify(existing.idempotencyKey)} was already used for a different ${existing.kind} run (${existing.id})`, {
      runId: existing.id,
    });
  return existing;
}

export async function visibleRun(ctx: DomainContext, id: string): Promise<Run> {
  const run = await ctx.db.run.findUnique({ where: { id: requireUuid(id, 'id') } });
  return visibleOrThrow(ctx.viewer, 'Run', id, run);
}

export function runsWhere(
  ctx: DomainContext,
  filter?: { kind?: RunKind | null; status?: Run['status'] | null; labId?: string | null; modelId?: string | null; subjectId?: string | null; datasetId?: string | null } | null,
) {
  return {
    AND: [
      runReadableWhere(ctx.viewer),
      filter?.kind ? { kind: filter.kind } : {},
      filter?.status ? { status: filter.status } : {},
      filter?.labId ? { labId: requireUuid(filter.labId, 'filter.labId') } : {},
      filter?.modelId ? { modelId: requireUuid(filter.modelId, 'filter.modelId') } : {},
      filter?.subjectId ? { subjectId: requireUuid(filter.subjectId, 'filter.subjectId') } : {},
      filter?.datasetId
        ? { OR: [{ subject: { datasetId: requireUuid(filter.datasetId, 'filter.datasetId') } }, { benchmark: { datasetId: filter.datasetId } }] }
        : {},
    ],
  };
}

/** Queued runs end at once; running ones are flagged and their worker is told to abort. */
export async function cancelRun(ctx: DomainContext, id: string): Promise<Run> {
  const run = await visibleRun(ctx, id);
  assertCanWrite(ctx.viewer, run.labId);
  if (run.status === 'SUCCEEDED' || run.status === 'FAILED' || run.status === 'CANCELLED')
    throw conflict(`Run ${run.id} already ended (${run.status}); submit a new run instead`, { status: run.status });
  return (await requestCancel(ctx.db, ctx.services.queue, run.id)) ?? run;
}
