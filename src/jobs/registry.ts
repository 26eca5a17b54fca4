// Every run kind's job module: its parameter schema and its handler. The Record type makes a kind
// added to the schema without a module a compile error; checkJobRegistry makes it a start-up
// error too (for a database enum ahead of the code), so no run of it is accepted and then failed
// at execution.
import type { z } from 'zod';
import type { HandlerRegistry, RunKind } from '../runs/types';
import { RunKind as RunKinds } from '../generated/prisma/enums';
import { jobHandler, type JobModule } from './define';
import { causalTest } from './causal-test';
import { encodingRidge } from './encoding-ridge';
import { encodingIcl } from './encoding-icl';
import { importFeatures, importResponses } from './io/import-frame';
import { vqaEval } from './vqa-eval';
import { featureExtraction } from './feature-extraction';
import { layerSweep } from './layer-sweep';
import { importSessions } from './import-sessions';
import { representationalSimilarityJob } from './representational-similarity';

const modules = {
  IMPORT_RESPONSES: importResponses,
  IMPORT_FEATURES: importFeatures,
  ENCODING_RIDGE: encodingRidge,
  ENCODING_ICL: encodingIcl,
  CAUSAL_TEST: causalTest,
  VQA_EVAL: vqaEval,
  FEATURE_EXTRACTION: featureExtraction,
  LAYER_SWEEP: layerSweep,
  IMPORT_SESSIONS: importSessions,
  REPRESENTATIONAL_SIMILARITY: representationalSimilarityJob,
} satisfies Record<RunKind, JobModule>;

export const jobs: Record<RunKind, JobModule> = modules;

/** The parameters of a run of kind K, as its job's schema parses them (defaults filled). */
export type ParamsOf<K extends RunKind> = z.output<(typeof modules)[K]['params']>;

/**
 * A run's recorded parameters read through its kind's schema, so code outside the job modules
 * never casts the JSON column; null when they do not parse (the worker fails such a run).
 */
export function readParams<K extends RunKind>(kind: K, json: unknown): ParamsOf<K> | null {
  const schema: z.ZodType = modules[kind].params;
  const parsed = schema.safeParse(json);
  return parsed.success ? (parsed.data as ParamsOf<K>) : null;
}

/** Throws, naming them, when a run kind has no job module or one registered under another kind. */
export function checkJobRegistry(registry: Partial<Record<string, JobModule>> = jobs, kinds: readonly string[] = Object.values(RunKinds)): void {
  const missing = kinds.filter((k) => !registry[k]);
  const misfiled = Object.entries(registry).filter(([k, job]) => job && job.kind !== k).map(([k, job]) => `${k} (holds ${job!.kind})`);
  if (missing.length || misfiled.length)
    throw new Error(
      'The job registry (src/jobs/registry.ts) is incomplete: ' +
        [missing.length ? `no job module for ${missing.join(', ')}` : '', misfiled.length ? `modules under the wrong kind: ${misfiled.join(', ')}` : ''].filter(Boolean).join('; '),
    );
}

/** What the executor calls: each kind's handler behind the parse of its recorded parameters. */
export const handlers: HandlerRegistry = Object.fromEntries(Object.values(jobs).map((job) => [job.kind, jobHandler(job)]));
