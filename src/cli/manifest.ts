// Manifests (YAML or JSON) and their shapes; errors name the offending entry so it can be fixed.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { findUnstorableText } from '../text/storable-text';
import { inputError } from './exit-codes';

const name = z.string().trim().min(1);
const visibility = z.enum(['PRIVATE', 'SHARED', 'PUBLIC']);

/** An array file: a path, plus the .npz member or HDF5 dataset to take from it. */
const arrayFile = {
  file: name,
  member: name.optional(),
  hdf5Dataset: name.optional(),
};

const stimulus = z.object({ externalId: name, concepts: z.array(z.string()).optional(), caption: z.string().optional() }).strict();

const dataset = z
  .object({
    name,
    description: z.string().optional(),
    visibility: visibility.optional(),
    subjects: z
      .array(
        z.union([
          z.object({ name, nVoxels: z.number().int().positive(), rois: z.array(z.object({ name, voxelIndices: z.array(z.number().int().nonnegative()) }).strict()).optional() }).strict(),
          // A subject in brain space: its voxels are the mask volume's, ROIs from label volumes with their tables.
          z.object({ name, mask: name, roiAtlases: z.array(z.object({ labels: name, table: name }).strict()).optional() }).strict(),
        ]),
      )
      .default([]),
    stimulusSets: z
      .array(z.object({ name, description: z.string().optional(), stimuli: z.union([z.array(stimulus).min(1), name]) }).strict())
      .default([]),
    responseSets: z.array(z.object({ subject: name, stimulusSet: name, name: name.default('betas'), ...arrayFile }).strict()).default([]),
    /** Responses from session files (NIfTI 4D / HDF5 betas) with one design table each. */
    responseSessions: z
      .array(
        z
          .object({
            subject: name,
            stimulusSet: name,
            name: name.default('betas'),
            zscore: z.boolean().optional(),
            nRepeats: z.number().int().positive().optional(),
            hdf5Scale: z.number().positive().optional(),
            splitHalfSplits: z.number().int().nonnegative().optional(),
            sessions: z.array(z.object({ betas: name, design: name, designSession: z.union([name, z.number()]).optional(), hdf5Dataset: name.optional() }).strict()).min(1),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

const model = z
  .object({
    name,
    kind: z.enum(['BACKBONE', 'ENCODER', 'IN_CONTEXT_ENCODER', 'DECODER']),
    family: z.string().optional(),
    description: z.string().optional(),
    featureWidth: z.number().int().positive().optional(),
    visibility: visibility.optional(),
    /** An ONNX file for the model itself. */
    file: name.optional(),
    backbone: name.optional(),
    featureSets: z.array(z.object({ dataset: name, stimulusSet: name, layer: z.string().default(''), ...arrayFile }).strict()).default([]),
  })
  .strict();

const benchmark = z
  .object({
    name,
    kind: z.enum(['ENCODING', 'IN_CONTEXT', 'CAUSAL', 'VQA']),
    metric: name,
    description: z.string().optional(),
    higherIsBetter: z.boolean().optional(),
    dataset: name.optional(),
  })
  .strict();

export const catalogManifest = z
  .object({ datasets: z.array(dataset).default([]), models: z.array(model).default([]), benchmarks: z.array(benchmark).default([]) })
  .strict();
export type CatalogManifest = z.infer<typeof catalogManifest>;

/** Each run: its kind, name references resolved to ids, files uploaded, the rest sent as given. */
export const runsManifest = z
  .object({ runs: z.array(z.object({ kind: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a RunKind such as ENCODING_RIDGE') }).passthrough()).min(1) })
  .strict();
export type RunsManifest = z.infer<typeof runsManifest>;

export interface LoadedManifest<T> {
  value: T;
  /** Directory relative file paths in the manifest are resolved against. */
  dir: string;
  /** The manifest as parsed, for deriving idempotency keys from its content. */
  raw: unknown;
}

export async function loadManifest<T>(file: string, schema: z.ZodType<T>): Promise<LoadedManifest<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw inputError(`Cannot read manifest ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw inputError(`${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  refuseUnstorable(file, raw);
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw inputError(`${file} does not describe what is expected:\n${problems.join('\n')}`, { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  }
  return { value: parsed.data, dir: path.dirname(path.resolve(file)), raw };
}

/** Text the catalog cannot store (a NUL, a lone surrogate) is refused before anything is sent, naming where it is. */
function refuseUnstorable(file: string, raw: unknown): void {
  const found = findUnstorableText(raw, '');
  if (found) throw inputError(`${file}: ${found.field} ${found.reason}; remove or replace it`, { field: found.field });
}

/** Stimuli from a .json array, .jsonl lines or a .csv with externalId, concepts ("|"-separated), caption. */
export async function readStimuliFile(file: string): Promise<z.infer<typeof stimulus>[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw inputError(`Cannot read stimuli file ${file}`);
  }
  let rows: unknown[];
  if (/\.json$/i.test(file)) rows = JSON.parse(text);
  else if (/\.jsonl$/i.test(file)) rows = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  else if (/\.csv$/i.test(file)) {
    const [head, ...lines] = text.split(/\r?\n/).filter((l) => l.trim());
    const cols = head.split(',').map((c) => c.trim());
    const at = (c: string) => cols.indexOf(c);
    if (at('externalId') < 0) throw inputError(`${file}: the CSV header needs an externalId column (found ${cols.join(', ')})`);
    rows = lines.map((l) => {
      const cells = l.split(',');
      return {
        externalId: cells[at('externalId')]?.trim(),
        ...(at('concepts') >= 0 && cells[at('concepts')]?.trim() ? { concepts: cells[at('concepts')].split('|').map((c) => c.trim()) } : {}),
        ...(at('caption') >= 0 && cells[at('caption')] ? { caption: cells[at('caption')] } : {}),
      };
    });
  } else throw inputError(`Stimuli file ${file} must be .json, .jsonl or .csv`);
  refuseUnstorable(file, rows);
  const parsed = z.array(stimulus).min(1).safeParse(rows);
  if (!parsed.success) throw inputError(`${file}: ${parsed.error.issues.map((i) => `row ${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
