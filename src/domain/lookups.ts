// Rows by id, answering null for what the viewer may not read. Domain functions that GraphQL calls
// once per row of a list take a Lookups argument, so resolvers pass their request's DataLoaders
// (src/resolvers/loaders.ts, one query per level); elsewhere plainLookups queries one row at a
// time under the same readability rules.
import { readableViaDataset, readableViaSubject, readableWhere } from '../access/readability';
import type { Artifact, Dataset, Model, Roi, StimulusSet, Subject } from '../generated/prisma/client';
import type { DomainContext } from './context';

export interface ByIdLookup<T> {
  load(id: string): Promise<T | null>;
}

export interface Lookups {
  dataset: ByIdLookup<Dataset>;
  subject: ByIdLookup<Subject>;
  roi: ByIdLookup<Roi>;
  stimulusSet: ByIdLookup<StimulusSet>;
  model: ByIdLookup<Model>;
  /** Unfiltered: an artifact is reached through a readable object (src/domain/access.ts). */
  artifact: ByIdLookup<Artifact>;
}

export function plainLookups({ db, viewer }: DomainContext): Lookups {
  const readable = (id: string, rule: Record<string, unknown>) => ({ where: { AND: [{ id }, rule] } });
  return {
    dataset: { load: (id) => db.dataset.findFirst(readable(id, readableWhere(viewer))) },
    subject: { load: (id) => db.subject.findFirst(readable(id, readableViaDataset(viewer))) },
    roi: { load: (id) => db.roi.findFirst(readable(id, readableViaSubject(viewer))) },
    stimulusSet: { load: (id) => db.stimulusSet.findFirst(readable(id, readableViaDataset(viewer))) },
    model: { load: (id) => db.model.findFirst(readable(id, readableWhere(viewer))) },
    artifact: { load: (id) => db.artifact.findUnique({ where: { id } }) },
  };
}
