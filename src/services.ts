// The adapters one process runs with. Profiles differ only in what is plugged in here.
import type { Config } from './config';
import type { Db } from './db/client';
import type { JobQueue } from './queue/job-queue';
import type { ArtifactStore } from './storage/artifact-store';

export interface Services {
  config: Config;
  db: Db;
  store: ArtifactStore;
  queue: JobQueue;
  /** The lab that writes default to in the embedded profile. */
  defaultLabId: string;
  version: string;
}

export const codeVersion: string = require('../package.json').version;
