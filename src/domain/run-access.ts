// Who may read a run: only viewers who may read every input it names. A run's results reveal
// its inputs (a model's name, a feature array's hash, weights fit on private responses), so its
// stored visibility is derived from its own setting and all of its inputs, the most restrictive
// winning and SHARED lists intersected. It is derived when the run is written and again whenever
// an input's visibility changes, so every query path can keep reading the run row alone.
import type { Db, Tx } from '../db/client';
import type { Visibility } from '../generated/prisma/client';

export interface RunInputs {
  datasetIds: string[];
  modelIds: string[];
  runIds: string[];
}

export interface RunAccess {
  visibility: Visibility;
  sharedWith: string[];
  ownerReads: boolean;
}

interface Readable {
  labId: string;
  visibility: Visibility;
  sharedWith: string[];
  ownerReads?: boolean;
}

/** Everyone, or exactly these labs (operators read everything regardless). */
type Readers = 'ALL' | Set<string>;

function readersOf(o: Readable): Readers {
  if (o.visibility === 'PUBLIC') return 'ALL';
  const labs = new Set(o.visibility === 'SHARED' ? o.sharedWith : []);
  if (o.ownerReads !== false) labs.add(o.labId);
  return labs;
}

function intersect(a: Readers, b: Readers): Readers {
  if (a === 'ALL') return b;
  if (b === 'ALL') return a;
  return new Set([...a].filter((lab) => b.has(lab)));
}

/** The (visibility, sharedWith, ownerReads) of a run owned by `labId` readable by exactly `readers`. */
export function accessFor(labId: string, readers: Readers): RunAccess {
  if (readers === 'ALL') return { visibility: 'PUBLIC', sharedWith: [], ownerReads: true };
  const others = [...readers].filter((lab) => lab !== labId).sort();
  return { visibility: others.length ? 'SHARED' : 'PRIVATE', sharedWith: others, ownerReads: readers.has(labId) };
}

export const unique = (ids: (string | null | undefined)[]): string[] => [...new Set(ids.filter((x): x is string => !!x))];

/** Derives a run's access from its own setting and the current visibility of its inputs. */
export async function deriveRunAccess(
  db: Db | Tx,
  run: { labId: string; ownVisibility: Visibility; ownSharedWith: string[] },
  inputs: RunInputs,
): Promise<RunAccess> {
  const pick = { labId: true, visibility: true, sharedWith: true } as const;
  const [datasets, models, runs] = await Promise.all([
    inputs.datasetIds.length ? db.dataset.findMany({ where: { id: { in: inputs.datasetIds } }, select: pick }) : [],
    inputs.modelIds.length ? db.model.findMany({ where: { id: { in: inputs.modelIds } }, select: pick }) : [],
    inputs.runIds.length ? db.run.findMany({ where: { id: { in: inputs.runIds } }, select: { ...pick, ownerReads: true } }) : [],
  ]);
  let readers = readersOf({ labId: run.labId, visibility: run.ownVisibility, sharedWith: run.ownSharedWith });
  for (const o of [...datasets, ...models, ...runs]) readers = intersect(readers, readersOf(o));
  return accessFor(run.labId, readers);
}

/**
 * Re-derives the given runs, then every run that names one of them as an input (encoder runs of
 * causal tests, sweep parents of their children), until nothing changes. Run in the transaction
 * that changed an input's visibility.
 */
export async function refreshRunAccess(db: Db | Tx, runIds: string[]): Promise<number> {
  let pending = unique(runIds);
  let changed = 0;
  // Inputs exist before the runs that read them, so chains are short and acyclic; the bound only
  // guards against a hand-edited cycle.
  for (let depth = 0; pending.length && depth < 32; depth++) {
    const rows = await db.run.findMany({ where: { id: { in: pending } } });
    const moved: string[] = [];
    for (const r of rows) {
      const access = await deriveRunAccess(db, r, { datasetIds: r.inputDatasetIds, modelIds: r.inputModelIds, runIds: r.inputRunIds });
      if (access.visibility === r.visibility && access.ownerReads === r.ownerReads && sameLabs(access.sharedWith, r.sharedWith)) continue;
      await db.run.update({ where: { id: r.id }, data: access });
      moved.push(r.id);
      changed++;
    }
    pending = moved.length ? (await db.run.findMany({ where: { inputRunIds: { hasSome: moved } }, select: { id: true } })).map((d) => d.id) : [];
  }
  return changed;
}

/** Re-derives every run that read this dataset, model or run (after its visibility changed). */
export async function refreshRunsReading(db: Db | Tx, input: { kind: 'DATASET' | 'MODEL' | 'RUN'; id: string }): Promise<number> {
  const where =
    input.kind === 'DATASET' ? { inputDatasetIds: { has: input.id } } : input.kind === 'MODEL' ? { inputModelIds: { has: input.id } } : { inputRunIds: { has: input.id } };
  if (input.kind === 'RUN') return refreshRunAccess(db, [input.id]);
  const runs = await db.run.findMany({ where, select: { id: true } });
  return refreshRunAccess(db, runs.map((r) => r.id));
}

/** The datasets a benchmark's files are about: its own dataset and its VQA questions' images. */
export async function benchmarkDatasetIds(db: Db | Tx, benchmarkId: string | null | undefined): Promise<string[]> {
  if (!benchmarkId) return [];
  const b = await db.benchmark.findUnique({ where: { id: benchmarkId }, select: { datasetId: true, vqaSource: { select: { stimulusSetId: true } } } });
  if (!b) return [];
  const set = b.vqaSource ? await db.stimulusSet.findUnique({ where: { id: b.vqaSource.stimulusSetId }, select: { datasetId: true } }) : null;
  return unique([b.datasetId, set?.datasetId]);
}

function sameLabs(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}
