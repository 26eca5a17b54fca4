// What produced a run: recorded on the Run row so a score can always be traced to the code, the
// machine and the attempt that computed it (ARCHITECTURE: "Every run records what produced it").
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let cachedVersion: string | undefined;

/**
 * The package version, plus the commit when the deployment provides it (BRAINALIGN_GIT_COMMIT is
 * set by the image build; git itself is not consulted because production images carry no .git).
 */
export function codeVersion(): string {
  if (cachedVersion === undefined) {
    const version = findPackageVersion(__dirname) ?? 'unknown';
    const commit = process.env.BRAINALIGN_GIT_COMMIT;
    cachedVersion = commit ? `${version}+${commit.slice(0, 12)}` : version;
  }
  return cachedVersion;
}

// Walks up instead of a fixed '../../package.json' so the same code works from src/ (tsx, jest)
// and from a compiled dist/ tree.
function findPackageVersion(start: string): string | undefined {
  let dir = start;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'brainalign') return pkg.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export interface WorkerIdentity {
  host: string;
  pid: number;
  /** Distinguishes workers on one host (several per GPU). */
  workerId?: string;
}

export function localIdentity(workerId?: string): WorkerIdentity {
  return { host: os.hostname(), pid: process.pid, ...(workerId ? { workerId } : {}) };
}
