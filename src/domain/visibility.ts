// Changing who may read a dataset, model or run: private to its lab, shared with named labs, or
// public. Admins of the owning lab decide (src/domain/access.ts enforces the result everywhere).
// A run's setting is only its own bound: it is never readable beyond its inputs (src/domain/run-access.ts).
import { badInput } from '../errors';
import type { Visibility } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { assertCanWrite, visibleOrThrow } from './access';
import { refreshRunsReading } from './run-access';
import { requireUuid } from './validate';

export type ShareableKind = 'DATASET' | 'MODEL' | 'RUN';

export interface VisibilityChangeModel {
  kind: ShareableKind;
  id: string;
  visibility: Visibility;
  sharedWith: string[];
}

const NAMES: Record<ShareableKind, string> = { DATASET: 'Dataset', MODEL: 'Model', RUN: 'Run' };

export async function setVisibility(
  ctx: DomainContext,
  input: { kind: ShareableKind; id: string; visibility: Visibility; sharedWith?: string[] | null },
): Promise<VisibilityChangeModel> {
  const id = requireUuid(input.id, 'id');
  const delegate = { DATASET: ctx.db.dataset, MODEL: ctx.db.model, RUN: ctx.db.run }[input.kind] as unknown as {
    findUnique(a: { where: { id: string } }): Promise<{ id: string; labId: string; visibility: Visibility; sharedWith: string[] } | null>;
    update(a: { where: { id: string }; data: { visibility: Visibility; sharedWith: string[] } }): Promise<unknown>;
  };
  const row = visibleOrThrow(ctx.viewer, NAMES[input.kind], input.id, await delegate.findUnique({ where: { id } }));
  assertCanWrite(ctx.viewer, row.labId, 'admin');
  const labs = [...new Set((input.sharedWith ?? []).map((lab, i) => requireUuid(lab, `sharedWith[${i}]`)))];
  if (input.visibility === 'SHARED' && labs.length === 0) throw badInput('SHARED needs at least one lab id in sharedWith', 'sharedWith');
  if (input.visibility !== 'SHARED' && labs.length > 0) throw badInput(`sharedWith applies to SHARED only (got ${input.visibility})`, 'sharedWith');
  const found = new Set((await ctx.db.lab.findMany({ where: { id: { in: labs } }, select: { id: true } })).map((l) => l.id));
  const missing = labs.findIndex((lab) => !found.has(lab));
  if (missing >= 0) throw badInput(`Lab ${labs[missing]} does not exist`, `sharedWith[${missing}]`);
  if (input.kind === 'RUN') {
    // What is set on a run is its own bound; its inputs may narrow what it becomes.
    const run = await ctx.db.$transaction(async (tx) => {
      await tx.run.update({ where: { id }, data: { ownVisibility: input.visibility, ownSharedWith: labs } });
      await refreshRunsReading(tx, { kind: 'RUN', id });
      return tx.run.findUniqueOrThrow({ where: { id } });
    });
    return { kind: input.kind, id, visibility: run.visibility, sharedWith: run.sharedWith };
  }
  // Runs that read this object follow it in the same transaction, so no reader sees a run its
  // inputs no longer allow.
  await ctx.db.$transaction(async (tx) => {
    const d = (input.kind === 'DATASET' ? tx.dataset : tx.model) as unknown as typeof delegate;
    await d.update({ where: { id }, data: { visibility: input.visibility, sharedWith: labs } });
    await refreshRunsReading(tx, { kind: input.kind, id });
  });
  return { kind: input.kind, id, visibility: input.visibility, sharedWith: labs };
}
