// Worker crashes on real ENCODING_RIDGE runs, large enough that an unbounded compute step would
// hold the event loop for a long while: workers are SIGKILLed at several progress points, with the
// production lock and stall settings and with short ones, and every run ends SUCCEEDED with the
// scores of an undisturbed run. `npm run bench -- faults` runs the same at full size.
//
// Worker start-up (a process loading ONNX Runtime) is most of the wall time, so the next worker
// is started while the current one still computes; it waits idle, since the running job's lock
// keeps it from the run until the kill.
import type { Run } from '../../src/generated/prisma/client';
import { LOCK_TROUBLE, kill, startFaultRig, type FaultRig, type WorkerChild } from '../helpers/fault-injection';
import { testQueuePrefix } from './harness';

jest.setTimeout(240_000);

let rig: FaultRig;
let reference: string[];
let clean: Promise<WorkerChild>;

beforeAll(async () => {
  const ready = startFaultRig({ nTrain: 300, nShared: 80, roiScale: 1.5, backbone: 'clip', bootstrapSamples: 100 }, testQueuePrefix());
  rig = await ready;
  clean = rig.startWorker('clean', 'short');
  await clean;
});
afterAll(() => rig?.close());

const on = (name: string) => (r: Run) => r.status === 'RUNNING' && (r.provenance as any)?.worker?.workerId === name;

it('a clean run on short lock intervals never loses its lock', async () => {
  const worker = await clean;
  const id = await rig.submit();
  const done = await rig.waitFor(id, (r) => r.status === 'SUCCEEDED', 'the clean run to succeed');
  expect(done).toMatchObject({ workerCrashes: 0, attempts: 1 });
  // The longest event-loop block of the job is measured and kept with the run.
  expect((done.provenance as any).eventLoop.maxBlockMs).toEqual(expect.any(Number));
  expect(worker.output()).not.toMatch(LOCK_TROUBLE);
  reference = await rig.scores(id);
  expect(reference.length).toBeGreaterThan(10);
  worker.proc.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
});

it('survives SIGKILLs at 30%, 55% and 80% (production intervals, then short ones) and ends with the same scores', async () => {
  // Kill points: [progress, intervals of the worker killed there]; a survivor finishes.
  const plan = [
    ['victim-0', 0.3, 'production'],
    ['victim-1', 0.55, 'short'],
    ['victim-2', 0.8, 'short'],
    ['survivor', 1, 'short'],
  ] as const;
  let current = await rig.startWorker(plan[0][0], plan[0][2]);
  const id = await rig.submit();
  for (let i = 0; i < plan.length - 1; i++) {
    await rig.waitFor(id, on(plan[i][0]), `${plan[i][0]} to take the run`);
    const next = rig.startWorker(plan[i + 1][0], plan[i + 1][2]);
    await rig.waitFor(id, (r) => on(plan[i][0])(r) && r.progress >= plan[i][1], `progress ${plan[i][1]} on ${plan[i][0]}`);
    await kill(current);
    current = await next;
  }
  const done = await rig.waitFor(id, (r) => r.status === 'SUCCEEDED', 'the run to succeed after its kills');
  // Each kill was one crash, none used up a RUN_ATTEMPTS attempt, the survivor finished it.
  expect(done).toMatchObject({ workerCrashes: 3, attempts: 4, error: null });
  expect((done.provenance as any).worker.workerId).toBe('survivor');
  expect(await rig.scores(id)).toEqual(reference); // same values, no duplicated rows
  expect(current.output()).not.toMatch(/could not renew lock|Missing lock for job/i);
});
