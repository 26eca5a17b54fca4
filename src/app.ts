// Assembles one API process for a profile. Production: external PostgreSQL, S3 (MinIO), BullMQ
// producer; heavy work happens in src/worker.ts. Embedded: PostgreSQL from npm, files under the
// data directory, and the same job handlers run in-process.
import { configureSharedEngine, defaultOnnxThreads } from './compute/engine-instance';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkJobRegistry, handlers } from './jobs/registry';
import { ConfigError, type Config } from './config';
import { siteIdentity } from './sites/identity';
import { createDb } from './db/client';
import { migrate } from './db/migrate';
import { sweepUploads, uploadIsOpen } from './domain/artifacts';
import { ensureOperatorToken } from './auth/operator';
import { ensureDefaultLab } from './domain/labs';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded/postgres';
import { queueDemoEncodings, seedDemoCatalog } from './embedded/seed';
import { createBullmqQueue } from './queue/bullmq-queue';
import { createInProcessQueue, InProcessJobQueue } from './queue/inprocess-queue';
import type { JobQueue } from './queue/job-queue';
import { runExecutor } from './runs/executor';
import { jsonLog, type Log } from './log';
import { localIdentity } from './runs/provenance';
import { startReconciler } from './runs/reconciler';
import { startApi, type ApiServer } from './server/http';
import { codeVersion, type Services } from './services';
import { createArtifactStore, createFsArtifactHttpHandler, FsArtifactStore } from './storage';

export interface RunningService {
  api: ApiServer;
  services: Services;
  /** The operator token's secret, when this process knows it (embedded data directory or BRAINALIGN_ADMIN_TOKEN). */
  operatorToken?: string;
  close(): Promise<void>;
}

export async function startService(config: Config, log: Log = jsonLog(config.logLevel, { component: 'api' })): Promise<RunningService> {
  // Every kind the API accepts must have a job module: a gap stops the service at start.
  checkJobRegistry();
  configureSharedEngine(config.executionProvider, config.onnxThreads || defaultOnnxThreads(config.workerConcurrency));
  const closers: { name: string; fn: () => Promise<unknown> }[] = [];
  const onClose = (name: string, fn: () => Promise<unknown>) => closers.push({ name, fn });
  const close = async () => {
    for (const { name, fn } of closers.reverse()) {
      log('debug', `stopping ${name}`);
      await fn().catch((err) => log('warn', `stopping ${name} failed: ${(err as Error).message}`));
    }
  };
  if (config.allowWeakCredentials) log('warn', 'ALLOW_WEAK_CREDENTIALS is set: placeholder and short credentials are accepted; never use it in a deployment');
  try {
    let databaseUrl = config.databaseUrl;
    if (config.profile === 'embedded') {
      mkdirSync(config.dataDir, { recursive: true });
      if (!databaseUrl) {
        const pg: EmbeddedDatabase = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, (m) => log('info', m));
        onClose('embedded PostgreSQL', () => pg.stop());
        databaseUrl = pg.url;
      }
      config = { ...config, uploadSecret: config.uploadSecret || installSecret(config.dataDir) };
    }
    const applied = await migrate(databaseUrl!);
    if (applied.length) log('info', 'migrations applied', { applied });

    const db = createDb(databaseUrl!);
    onClose('database pool', () => db.$disconnect());
    const store = createArtifactStore(config);

    let queue: JobQueue;
    if (config.profile === 'embedded' && !config.redisUrl) {
      queue = createInProcessQueue({
        execute: runExecutor({ db, store, handlers, identity: localIdentity('embedded'), log, crashRetries: config.workerCrashRetries }),
        concurrency: config.workerConcurrency,
        attempts: config.runAttempts,
        log,
      });
    } else {
      queue = createBullmqQueue({ redisUrl: config.redisUrl!, prefix: config.queuePrefix, attempts: config.runAttempts, commandTimeoutMs: config.queueTimeoutMs, log });
    }
    onClose('job queue', () => queue.close());

    const lab = await ensureDefaultLab(db);
    const operatorToken = await ensureOperatorToken(db, { token: config.adminToken, dataDir: config.profile === 'embedded' ? config.dataDir : undefined });
    if (!operatorToken) log('warn', 'no operator token: set BRAINALIGN_ADMIN_TOKEN to create labs, users and API tokens');
    const services: Services = { config, db, store, queue, defaultLabId: lab.id, version: codeVersion };
    if (config.profile === 'production' && !config.site.keyFile) {
      if (!config.site.keySecret)
        throw new ConfigError('Invalid configuration:\n  SITE_KEY_SECRET: required in the production profile unless SITE_KEY_FILE mounts the site key (got unset)');
      // Decrypts (or creates) the site key now: a wrong secret stops the start, not a later export.
      await siteIdentity(services);
    }

    // Runs left open by a previous process (or lost by Redis) are queued again.
    const reconciler = startReconciler({
      db,
      queue,
      namespace: config.queuePrefix,
      // The in-process queue is this process's alone: no other reconciler to keep out.
      useLease: !(queue instanceof InProcessJobQueue),
      intervalMs: config.reconcileIntervalMs,
      log,
    });
    onClose('reconciler', () => reconciler.stop());
    // Interrupted uploads (a killed process, a client that gave up) leave temp and staged files:
    // swept once before serving and then periodically.
    const sweepOnce = () =>
      sweepUploads(services).then(
        (swept) => {
          if (swept.expired || swept.temp || swept.orphans) log('info', 'upload leftovers removed', swept);
        },
        (err) => log('warn', `upload sweep failed: ${(err as Error).message}`),
      );
    await sweepOnce();
    const sweep = setInterval(() => void sweepOnce(), config.uploadSweepMs);
    sweep.unref();
    onClose('upload sweeper', async () => clearInterval(sweep));

    const api = await startApi(services, {
      log,
      host: config.host,
      port: config.port,
      routes: store instanceof FsArtifactStore ? [createFsArtifactHttpHandler(store, { uploadOpen: uploadIsOpen(db) })] : [],
      databaseUrl,
    });
    onClose('HTTP server', () => api.close());

    if (config.profile === 'embedded' && config.seedDemo) {
      await seedDemoCatalog(services, log);
      const demoRuns = queueDemoEncodings(services, log);
      onClose('demo runs', async () => demoRuns.stop());
    }
    return { api, services, operatorToken, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The embedded profile signs its upload URLs with a secret kept in the data directory. */
function installSecret(dataDir: string): string {
  const file = path.join(dataDir, 'upload-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
