import type { z } from 'zod';
import type { RunKind } from '../generated/prisma/client';
import { RunInputError, type JobContext as RunJobContext, type JobHandler, type JobResult } from '../runs/types';

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

/**
 * The handler the executor calls: the run's recorded parameters parsed by the job's schema, so
 * `handle` sees defaults filled and types checked. Parameters that no longer parse are the run's
 * input error (not retried), naming the first field.
 */
export function jobHandler<S extends z.ZodType>(job: JobModule<S>): JobHandler {
  return (ctx) => {
    const parsed = job.params.safeParse(ctx.params);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RunInputError(`The run's ${job.kind} parameters do not parse: ${issue.path.join('.') || '(params)'}: ${issue.message}`);
    }
    return job.handle({ ...ctx, params: parsed.data });
  };
}
