// Compute kernels throw ComputeError inside; the job layer turns it into an error value with a code.
export type ComputeErrorCode =
  | 'SHAPE_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'NOT_POSITIVE_SEMIDEFINITE'
  | 'EXECUTION_PROVIDER_UNAVAILABLE'
  | 'NON_FINITE_INPUT';

export class ComputeError extends Error {
  constructor(
    readonly code: ComputeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ComputeError';
  }
}

export function check(condition: unknown, code: ComputeErrorCode, message: string): asserts condition {
  if (!condition) throw new ComputeError(code, message);
}
