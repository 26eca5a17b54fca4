// What a command may touch of its surroundings, passed in so tests run commands in-process.
import type { Writable } from 'node:stream';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  /** Resolves relative paths (manifests, files); default process.cwd(). */
  cwd?: string;
}

/** Options every command accepts. */
export interface GlobalOptions {
  json?: boolean;
  progress?: boolean;
  url?: string;
  token?: string;
}

/** Writes a command's result: JSON on stdout with --json, else the human text. */
export function emit(io: CliIo, opts: GlobalOptions, value: unknown, text: () => string): void {
  if (opts.json) io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else {
    const t = text();
    if (t) io.stdout.write(t.endsWith('\n') ? t : `${t}\n`);
  }
}

/** Progress is drawn on stderr when it is a terminal, or when --progress asks for it. */
export function showsProgress(io: CliIo, opts: GlobalOptions): boolean {
  return Boolean(opts.progress ?? (io.stderr as { isTTY?: boolean }).isTTY);
}
