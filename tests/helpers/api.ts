// Starts the real HTTP API on a random port against the run's test database.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { handlers } from '../../src/jobs/registry';
import { loadConfig } from '../../src/config';
import { createInProcessQueue } from '../../src/queue/inprocess-queue';
import { runExecutor } from '../../src/runs/executor';
import type { Db } from '../../src/db/client';
import { issueToken } from '../../src/auth/api-tokens';
import { ensureOperatorUser } from '../../src/auth/operator';
import { ensureDefaultLab } from '../../src/domain/labs';
import { uploadIsOpen } from '../../src/domain/artifacts';
import type { JobQueue, JobState } from '../../src/queue/job-queue';
import type { RunJob } from '../../src/runs/types';
import { startApi, type ApiServer } from '../../src/server/http';
import { codeVersion, type Services } from '../../src/services';
import type { ArtifactStore } from '../../src/storage/artifact-store';
import { createFsArtifactHttpHandler, FsArtifactStore } from '../../src/storage';
import { freePort } from './ports';
import { testDatabaseUrl, testDb, uniqueName } from './db';

/** A queue that only records what was enqueued; for tests of the API alone. */
export class RecordingQueue implements JobQueue {
  enqueued: RunJob[] = [];
  cancelled: string[] = [];
  async enqueue(job: RunJob) {
    this.enqueued.push(job);
  }
  async cancel(runId: string) {
    this.cancelled.push(runId);
  }
  async has(runId: string) {
    return this.enqueued.some((j) => j.runId === runId);
  }
  async status(runId: string) {
    return { state: (this.enqueued.some((j) => j.runId === runId) ? 'waiting' : 'missing') as JobState };
  }
  async close() {}
}

export interface TestApi {
  url: string;
  services: Services;
  db: Db;
  /** Posts a GraphQL operation; returns the parsed body ({ data, errors }). */
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: any[] }>;
  /** Like gql but throws on errors and returns data. */
  ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** The same API as another client: 'anonymous' (no Authorization header) or a token. */
  as(auth: ClientAuth): Pick<TestApi, 'gql' | 'ok'> & { post(body: string, headers?: Record<string, string>): Promise<Response> };
  /** Secret of an operator token created in the test database. */
  operatorToken: string;
  /** What the API logged (refusals among them). */
  logs: { level: string; message: string; fields: Record<string, unknown> }[];
  close(): Promise<void>;
}

export type ClientAuth = 'operator' | 'anonymous' | { token: string };

export interface TestApiOptions {
  db?: Db;
  store?: ArtifactStore;
  /** Default: a RecordingQueue. 'in-process' executes runs with the real handlers, as the embedded profile. */
  queue?: JobQueue | 'in-process';
  /** Attempts per run of the in-process queue (default 1). */
  attempts?: number;
  env?: Record<string, string>;
  /** Who gql/ok act as; default: an operator of the installation (sees and changes everything). */
  auth?: ClientAuth;
}

export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ba-api-'));
  // Rate limits are tested on their own; other tests poll freely.
  const config = loadConfig({ DATA_DIR: dataDir, UPLOAD_SECRET: 'test-upload-secret-0123456789', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000', LOG_LEVEL: 'warn', ...options.env });
  const db = options.db ?? testDb();
  let server: ApiServer | undefined;
  const ownStore = !options.store;
  // The embedded store signs URLs on the API's own origin, so the port is chosen first.
  const port = await freePort();
  const store =
    options.store ??
    new FsArtifactStore({
      rootDir: path.join(dataDir, 'artifacts'),
      publicBaseUrl: `http://127.0.0.1:${port}`,
      signingSecret: config.uploadSecret,
      // UPLOAD_PART_SIZE_MB in options.env lets a test exercise multipart uploads with small files.
      partSize: config.uploadPartSize,
    });
  const lab = await ensureDefaultLab(db, uniqueName('lab'));
  const queue =
    options.queue === 'in-process'
      ? createInProcessQueue({ execute: runExecutor({ db, store, handlers }), concurrency: 1, attempts: options.attempts ?? 1 })
      : (options.queue ?? new RecordingQueue());
  const services: Services = { config, db, store, queue, defaultLabId: lab.id, version: codeVersion };
  const operator = await ensureOperatorUser(db);
  const operatorToken = (await issueToken(db, operator.id, { name: uniqueName('operator'), expiresAt: null })).secret;
  const logs: TestApi['logs'] = [];
  server = await startApi(services, {
    log: (level, message, fields = {}) => void logs.push({ level, message, fields }),
    port,
    routes: store instanceof FsArtifactStore ? [createFsArtifactHttpHandler(store, { uploadOpen: uploadIsOpen(db) })] : [],
    databaseUrl: options.db ? undefined : testDatabaseUrl(),
  });
  const client = (auth: ClientAuth) => {
    const token = auth === 'operator' ? operatorToken : auth === 'anonymous' ? undefined : auth.token;
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(server!.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, body });
    const gql = async (query: string, variables?: Record<string, unknown>) => (await (await post(JSON.stringify({ query, variables }))).json()) as { data?: any; errors?: any[] };
    const ok = async (query: string, variables?: Record<string, unknown>) => {
      const body = await gql(query, variables);
      if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors, null, 2)}`);
      return body.data;
    };
    return { gql, ok, post };
  };
  const { gql, ok } = client(options.auth ?? 'operator');
  return {
    url: server.url,
    services,
    db,
    gql,
    ok,
    as: client,
    operatorToken,
    logs,
    close: async () => {
      await server?.close();
      if (options.queue === 'in-process') await queue.close();
      if (!options.db) await db.$disconnect();
      if (ownStore) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
