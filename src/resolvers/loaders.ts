// Per-request DataLoaders: nested fields batch into one query per level instead of one per row.
import DataLoader from 'dataloader';
import type { Db } from '../db/client';

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

export function createLoaders(db: Db) {
  const inIds = (ids: string[]) => ({ where: { id: { in: ids } } });
  return {
    lab: byId((ids) => db.lab.findMany(inIds(ids))),
    dataset: byId((ids) => db.dataset.findMany(inIds(ids))),
    subject: byId((ids) => db.subject.findMany(inIds(ids))),
    roi: byId((ids) => db.roi.findMany(inIds(ids))),
    stimulusSet: byId((ids) => db.stimulusSet.findMany(inIds(ids))),
    model: byId((ids) => db.model.findMany(inIds(ids))),
    artifact: byId((ids) => db.artifact.findMany(inIds(ids))),
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
    stimulusCount: new DataLoader<string, number>(async (ids) => {
      const counts = await db.stimulus.groupBy({ by: ['stimulusSetId'], where: { stimulusSetId: { in: [...ids] } }, _count: true });
      const map = new Map(counts.map((c) => [c.stimulusSetId, c._count]));
      return ids.map((id) => map.get(id) ?? 0);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
