/**
 * Typed storage errors. `code` uses the API's stable GraphQL error codes so a resolver can
 * forward the error as is (BAD_USER_INPUT, NOT_FOUND, CONFLICT, INTERNAL).
 */

export type StorageErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'INTERNAL';

export class StorageError extends Error {
  constructor(
    message: string,
    readonly code: StorageErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An artifact, staging object or multipart upload that does not exist. */
export class ArtifactNotFoundError extends StorageError {
  constructor(
    message: string,
    /** The missing thing: a sha256, a staging key or an upload id. */
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'NOT_FOUND', options);
  }
}

/** Content does not match what the caller promised (hash, size, part ETag, changed since hashed). */
export class ArtifactIntegrityError extends StorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONFLICT', options);
  }
}

/** A request the store refuses: malformed key or hash, bad size, unsatisfiable range. */
export class InvalidStorageRequestError extends StorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'BAD_USER_INPUT', options);
  }
}

/** A malformed or unsupported `.npy` file. `offset` is the byte in the file where it went wrong. */
export class NpyFormatError extends StorageError {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message, 'BAD_USER_INPUT');
  }
}

/** A malformed or unsupported `.npz` (zip) archive. */
export class NpzFormatError extends StorageError {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message, 'BAD_USER_INPUT');
  }
}
