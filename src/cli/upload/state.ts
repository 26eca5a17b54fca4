// Resume state of an unfinished upload: which upload the server opened and which parts arrived.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface PartTarget {
  partNumber: number;
  url: string;
  offset: number;
  size: number;
}

export interface UploadState {
  apiUrl: string;
  sourceKey: string;
  sha256: string;
  size: number;
  uploadId: string;
  expiresAt: string;
  /** One PUT (no resume within it) ... */
  single?: { url: string; method: string; headers: Record<string, string> };
  /** ... or parts, each kept with its ETag once it arrived. */
  parts?: PartTarget[];
  etags: Record<string, string>;
}

export class UploadStateStore {
  constructor(private readonly dir: string) {}

  private file(apiUrl: string, sourceKey: string): string {
    return path.join(this.dir, `${createHash('sha256').update(`${apiUrl}\n${sourceKey}`).digest('hex').slice(0, 32)}.json`);
  }

  async load(apiUrl: string, sourceKey: string): Promise<UploadState | null> {
    try {
      const state = JSON.parse(await readFile(this.file(apiUrl, sourceKey), 'utf8')) as UploadState;
      return state.apiUrl === apiUrl && state.sourceKey === sourceKey ? state : null;
    } catch {
      return null;
    }
  }

  async save(state: UploadState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(state.apiUrl, state.sourceKey);
    // Written whole then renamed, so an interruption never leaves half a state file.
    await writeFile(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async remove(apiUrl: string, sourceKey: string): Promise<void> {
    await rm(this.file(apiUrl, sourceKey), { force: true });
  }
}
