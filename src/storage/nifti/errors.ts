/**
 * A NIfTI file that cannot be read as it claims to be: names the file, the header field and the
 * values involved, so the message says what to fix.
 */
export class NiftiFormatError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
    readonly values: Record<string, unknown> = {},
  ) {
    super(`${file}: ${message}`);
    this.name = 'NiftiFormatError';
  }
}
