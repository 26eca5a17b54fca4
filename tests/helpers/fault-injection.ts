// Fault injection on real ENCODING_RIDGE runs: the API (imports run in-process), BullMQ workers in
// their own processes with the real handlers and a shared artifact directory, and SIGKILLs at
// chosen progress points. Shared by tests/queue/fault-injection.test.ts (CI size) and
// `npm run bench -- faults` (full size), so both exercise exactly the same path.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { demoData } from '../../src/embedded/demo-data';
import { handlers } from '../../src/jobs/registry';
import { createBullmqQueue, type BullmqJobQueue } from '../../src/queue/bullmq-queue';
import { createInProcessQueue } from '../../src/queue/inprocess-queue';
import type { EnqueueOptions, JobQueue, JobStatus } from '../../src/queue/job-queue';
import { runExecutor } from '../../src/runs/executor';
import type { Run } from '../../src/generated/prisma/client';
import type { RunJob, RunKind } from '../../src/runs/types';
import type { FsArtifactStore } from '../../src/storage';
import { startTestApi, type TestApi } from './api';
import { registerSynthetic, type RegisteredSubject } from './synthetic-catalog';

const ROOT = path.resolve(__dirname, '../..');
const CHILD = path.join(ROOT, 'tests/helpers/worker-child.ts');
const RIDGE: RunKind = 'ENCODING_RIDGE';

/** Lock and stall settings of a worker: the production defaults, or short ones that stress renewal. */
export type Intervals = 'production' | 'short';

export function intervalEnv(intervals: Intervals): Record<string, string> {
  if (intervals === 'short') return { LOCK_DURATION_MS: '3000', STALLED_INTERVAL_MS: '1000' };
  const defaults = loadConfig({});
  return { LOCK_DURATION_MS: String(defaults.lockDurationMs), STALLED_INTERVAL_MS: String(defaults.stalledIntervalMs) };
}

export interface RigSize {
  nTrain: number;
  nShared: number;
  /** ROI scale of the synthetic subject (voxels grow with it: ~1000 per unit). */
  roiScale: number;
  /** 'clip' (512 features) or 'dino' (768). */
  backbone: 'clip' | 'dino';
  bootstrapSamples: number;
}

export interface WorkerChild {
  proc: ChildProcess;
  pid: number;
  name: string;
  output(): string;
  exited: Promise<number | null>;
}

/** Imports through the API's in-process queue, ridge runs through BullMQ to the child workers. */
class RoutingQueue implements JobQueue {
  constructor(
    private readonly local: JobQueue,
    readonly bull: BullmqJobQueue,
  ) {}
  private pick(kind?: RunKind) {
    return kind === RIDGE ? this.bull : this.local;
  }
  enqueue(job: RunJob, options?: EnqueueOptions) {
    return this.pick(job.kind).enqueue(job, options);
  }
  async cancel(runId: string, kind?: RunKind) {
    await Promise.all(kind ? [this.pick(kind).cancel(runId, kind)] : [this.local.cancel(runId), this.bull.cancel(runId)]);
  }
  async status(runId: string, kind?: RunKind): Promise<JobStatus> {
    if (kind) return this.pick(kind).status(runId, kind);
    const s = await this.bull.status(runId);
    return s.state === 'missing' ? this.local.status(runId) : s;
  }
  async has(runId: string, kind?: RunKind) {
    const { state } = await this.status(runId, kind);
    return state === 'waiting' || state === 'active';
  }
  async close() {
    await this.local.close();
    await this.bull.close();
  }
}

export interface FaultRig {
  api: TestApi;
  subject: RegisteredSubject;
  nVoxels: number;
  prefix: string;
  /** Submits one ENCODING_RIDGE run on the rig's subject; returns its id. */
  submit(): Promise<string>;
  startWorker(name: string, intervals: Intervals, env?: Record<string, string>): Promise<WorkerChild>;
  run(id: string): Promise<Run>;
  /** Polls until `check` holds for the run (or it ended); returns it. */
  waitFor(id: string, check: (run: Run) => boolean, what: string, timeoutMs?: number): Promise<Run>;
  /** (metric, scope, value, CI, normalised, n) of every score, sorted: what "the same scores" compares. */
  scores(id: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startFaultRig(size: RigSize, prefix: string): Promise<FaultRig> {
  const data = demoData({ nTrain: size.nTrain, nShared: size.nShared, roiScale: size.roiScale });
  const subjectData = data.subjects[0];
  for (const name of [...subjectData.features.keys()]) if (name !== size.backbone) subjectData.features.delete(name);
  const bull = createBullmqQueue({ redisUrl: process.env.TEST_REDIS_URL!, prefix, attempts: 3, backoffMs: 200 });
  let api: TestApi | undefined;
  const queue = new RoutingQueue(
    {
      // Bound late: the in-process executor needs the API's database and store.
      enqueue: (job, o) => local!.enqueue(job, o),
      cancel: (id, k) => local!.cancel(id, k),
      status: (id, k) => local!.status(id, k),
      has: (id, k) => local!.has(id, k),
      close: async () => local?.close(),
    },
    bull,
  );
  let local: JobQueue | undefined;
  api = await startTestApi({ queue, env: { QUEUE_PREFIX: prefix } });
  local = createInProcessQueue({ execute: runExecutor({ db: api.db, store: api.services.store, handlers }), concurrency: 1, attempts: 1 });
  const { subjects } = await registerSynthetic(api, { backbones: data.backbones.filter((b) => b.name === size.backbone), subjects: [subjectData] });
  const subject = subjects[0];
  // The stimuli after the subject's training images are the shared ones (see demoData).
  const testStimulusIds = subjectData.stimuli.slice(-size.nShared).map((s) => s.externalId);
  const storeDir = (api.services.store as FsArtifactStore).rootDir;
  const children: WorkerChild[] = [];
  const rig: FaultRig = {
    api,
    subject,
    nVoxels: subjectData.nVoxels,
    prefix,
    async submit() {
      const { submitEncodingRidge } = await api!.ok(`mutation($i: EncodingRidgeInput!) { submitEncodingRidge(input: $i) { id } }`, {
        i: { featureSetId: subject.featureSets[size.backbone], responseSetId: subject.responseSetId, bootstrapSamples: size.bootstrapSamples, testStimulusIds },
      });
      return submitEncodingRidge.id as string;
    },
    async startWorker(name, intervals, env = {}) {
      const child = await spawnWorker(name, { ...intervalEnv(intervals), QUEUE_PREFIX: prefix, STORE_DIR: storeDir, WORKER_KINDS: RIDGE,
        // Every progress report reaches PostgreSQL, so a kill point is seen however fast the machine.
        PROGRESS_INTERVAL_MS: '0', ...env });
      children.push(child);
      return child;
    },
    run: (id) => api!.db.run.findUniqueOrThrow({ where: { id } }),
    async waitFor(id, check, what, timeoutMs = 300_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await rig.run(id);
        if (check(run)) return run;
        if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status)) throw new Error(`run ${id} ended ${run.status} (${JSON.stringify(run.error)}) before ${what}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (run ${run.status} at ${run.progress}: ${run.progressMessage})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async scores(id) {
      const rows = await api!.db.score.findMany({ where: { runId: id } });
      return rows.map((s) => JSON.stringify([s.metric, s.scope, s.value, s.ciLow, s.ciHigh, s.normalized, s.n])).sort();
    },
    async close() {
      for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await api!.close();
      await queue.close();
    },
  };
  return rig;
}

/** SIGKILL (no chance to hand the job back) and wait for the process to be gone. */
export async function kill(child: WorkerChild): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

/** Log lines a healthy worker never writes: lost locks, jobs declared stalled under it. */
export const LOCK_TROUBLE = /could not renew lock|Missing lock for job|job stalled/i;

async function spawnWorker(name: string, env: Record<string, string>): Promise<WorkerChild> {
  // node itself with tsx's loader, so SIGKILL reaches the worker and not a wrapper process.
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL, REDIS_URL: process.env.TEST_REDIS_URL, WORKER_NAME: name, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} did not start:\n${out}`)), 60_000);
    proc.stdout!.on('data', () => {
      if (out.includes('"ready":true')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${name} exited (${code}) before it was ready:\n${out}`));
    });
  });
  return { proc, pid: proc.pid!, name, output: () => out, exited };
}

/** One kill: the worker that takes the run is SIGKILLed once the run's progress reaches `at`. */
export interface Kill {
  at: number;
  intervals: Intervals;
}

/**
 * Submits a run and kills its worker at each point of `kills` in turn, then lets a last worker
 * (`finisher` intervals) end it. The next worker is started while the current one computes, so
 * start-up time overlaps the run. Returns the ended run and the finishing worker.
 */
export async function runThroughKills(rig: FaultRig, kills: Kill[], finisher: Intervals, tag = 'run'): Promise<{ run: Run; id: string; finisher: WorkerChild; workers: WorkerChild[] }> {
  const plan = [...kills.map((k, i) => ({ name: `${tag}-victim-${i}`, at: k.at, intervals: k.intervals })), { name: `${tag}-finisher`, at: 1, intervals: finisher }];
  const workers: WorkerChild[] = [];
  const on = (name: string) => (r: Run) => r.status === 'RUNNING' && (r.provenance as any)?.worker?.workerId === name;
  let current = await rig.startWorker(plan[0].name, plan[0].intervals);
  workers.push(current);
  const id = await rig.submit();
  for (let i = 0; i < plan.length - 1; i++) {
    await rig.waitFor(id, on(plan[i].name), `${plan[i].name} to take the run`);
    const next = rig.startWorker(plan[i + 1].name, plan[i + 1].intervals);
    await rig.waitFor(id, (r) => on(plan[i].name)(r) && r.progress >= plan[i].at, `progress ${plan[i].at} on ${plan[i].name}`);
    await kill(current);
    current = await next;
    workers.push(current);
  }
  const run = await rig.waitFor(id, (r) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status), 'the run to end');
  current.proc.kill('SIGTERM');
  await current.exited;
  return { run, id, finisher: current, workers };
}
