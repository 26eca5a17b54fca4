// Per-request DataLoaders: nested fields batch into one query per level instead of one per row.
import DataLoader from 'dataloader';
import type { Db } from '../db/client';
import { superuser, type Viewer } from '../access/viewer';
import { readableViaDataset, readableViaSubject, readableWhere } from '../access/readability';

function byId<T extends { id: string }>(fetch: (ids: string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await fetch([...ids]);
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

function groupedBy<T>(fetch: (keys: string[]) => Promise<T[]>, keyOf: (row: T) => string) {
  return new DataLoader<string, T[]>(async (keys) => {
    const rows = await fetch([...keys]);
    const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
    for (const row of rows) groups.get(keyOf(row))?.push(row);
    return keys.map((k) => groups.get(k)!);
  });
}

/**
 * The loaders of lab-owned objects answer null for what the viewer may not read, so every nested
 * field that follows an id (run -> model, benchmark -> dataset, score -> roi -> subject) is
 * filtered by the same rule as the top-level queries. Children of a readable object (a dataset's
 * subjects, a model's feature sets) share its visibility and are loaded unfiltered.
 */
export function createLoaders(db: Db, viewer: Viewer = superuser()) {
  const inIds = (ids: string[]) => ({ where: { id: { in: ids } } });
  const readable = (ids: string[], rule: Record<string, unknown>) => ({ where: { AND: [{ id: { in: ids } }, rule] } });
  return {
    lab: byId((ids) => db.lab.findMany(inIds(ids))),
    dataset: byId((ids) => db.dataset.findMany(readable(ids, readableWhere(viewer)))),
    subject: byId((ids) => db.subject.findMany(readable(ids, readableViaDataset(viewer)))),
    roi: byId((ids) => db.roi.findMany(readable(ids, readableViaSubject(viewer)))),
    stimulusSet: byId((ids) => db.stimulusSet.findMany(readable(ids, readableViaDataset(viewer)))),
    model: byId((ids) => db.model.findMany(readable(ids, readableWhere(viewer)))),
    artifact: byId((ids) => db.artifact.findMany(inIds(ids))),
    // Children of a readable model / subject; the run title resolves their parents through the filtered loaders.
    featureSet: byId((ids) => db.featureSet.findMany(inIds(ids))),
    responseSet: byId((ids) => db.responseSet.findMany(inIds(ids))),
    benchmark: byId((ids) => db.benchmark.findMany(inIds(ids))),
    // Causal designs: a query's distractor groups, and stimuli by (stimulus set, position).
    conceptQuery: byId((ids) => db.conceptQuery.findMany(inIds(ids))),
    distractorGroupsByQuery: groupedBy(
      (ids) => db.distractorGroup.findMany({ where: { conceptQueryId: { in: ids } }, orderBy: { cue: 'asc' } }),
      (r) => r.conceptQueryId,
    ),
    stimulusAt: new DataLoader<string, import('../generated/prisma/client').Stimulus | null>(async (keys) => {
      const bySet = new Map<string, number[]>();
      for (const k of keys) {
        const [set, pos] = k.split('#');
        bySet.set(set, [...(bySet.get(set) ?? []), Number(pos)]);
      }
      const rows = await db.stimulus.findMany({ where: { OR: [...bySet].map(([stimulusSetId, positions]) => ({ stimulusSetId, position: { in: positions } })) } });
      const map = new Map(rows.map((r) => [`${r.stimulusSetId}#${r.position}`, r]));
      return keys.map((k) => map.get(k) ?? null);
    }),
    subjectsByDataset: groupedBy(
      (ids) => db.subject.findMany({ where: { datasetId: { in: ids } }, orderBy: { name: 'asc' } }),
      (r) => r.datasetId,
    ),
    stimulusSetsByDataset: groupedBy(
      (ids) => db.stimulusSet.findMany({ where: { datasetId: { in: ids } }, orderBy: { name: 'asc' } }),
      (r) => r.datasetId,
    ),
    roisBySubject: groupedBy(
      (ids) => db.roi.findMany({ where: { subjectId: { in: ids } }, orderBy: { name: 'asc' } }),
      (r) => r.subjectId,
    ),
    responseSetsBySubject: groupedBy(
      (ids) => db.responseSet.findMany({ where: { subjectId: { in: ids } }, orderBy: { createdAt: 'asc' } }),
      (r) => r.subjectId,
    ),
    featureSetsByModel: groupedBy(
      (ids) => db.featureSet.findMany({ where: { modelId: { in: ids } }, orderBy: { createdAt: 'asc' } }),
      (r) => r.modelId,
    ),
    stimulusImage: new DataLoader<string, import('../generated/prisma/client').StimulusImage | null>(async (ids) => {
      const rows = await db.stimulusImage.findMany({ where: { stimulusId: { in: [...ids] } } });
      const map = new Map(rows.map((r) => [r.stimulusId, r]));
      return ids.map((id) => map.get(id) ?? null);
    }),
    imageCount: new DataLoader<string, number>(async (ids) => {
      const rows = await db.$queryRaw<{ id: string; n: number }[]>`SELECT st."stimulusSetId"::text AS id, count(*)::int AS n FROM "StimulusImage" si JOIN "Stimulus" st ON st.id = si."stimulusId" WHERE st."stimulusSetId"::text = ANY(${[...ids]}) GROUP BY 1`;
      const map = new Map(rows.map((r) => [r.id, r.n]));
      return ids.map((id) => map.get(id) ?? 0);
    }),
    stimulusCount: new DataLoader<string, number>(async (ids) => {
      const counts = await db.stimulus.groupBy({ by: ['stimulusSetId'], where: { stimulusSetId: { in: [...ids] } }, _count: true });
      const map = new Map(counts.map((c) => [c.stimulusSetId, c._count]));
      return ids.map((id) => map.get(id) ?? 0);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
