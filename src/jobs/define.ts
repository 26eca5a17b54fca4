import type { z } from 'zod';
import type { RunKind } from '../generated/prisma/client';
import type { JobContext as RunJobContext, JobResult } from '../runs/types';

/** What a handler receives: the run's context with its parameters parsed and typed. */
export interface JobContext<P> extends Omit<RunJobContext, 'params'> {
  params: P;
}

/** One run kind: its parameters (parsed, defaults filled, before queueing and again by the worker) and its handler. */
export interface JobModule<S extends z.ZodType = z.ZodType> {
  kind: RunKind;
  params: S;
  handle(ctx: JobContext<z.output<S>>): Promise<JobResult>;
}

export function defineJob<S extends z.ZodType>(job: JobModule<S>): JobModule<S> {
  return job;
}
