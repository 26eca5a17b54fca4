// Worker crashes on real ENCODING_RIDGE runs, large enough that an unbounded compute step would
// hold the event loop for seconds: workers are SIGKILLed at several progress points, with the
// production lock and stall settings and with short ones, and every run ends SUCCEEDED with the
// scores of an undisturbed run. `npm run bench -- faults` runs the same at full size.
import { LOCK_TROUBLE, kill, startFaultRig, type FaultRig } from '../helpers/fault-injection';
import { testQueuePrefix } from './harness';

jest.setTimeout(240_000);

let rig: FaultRig;
let reference: string[];

beforeAll(async () => {
  rig = await startFaultRig({ nTrain: 400, nShared: 100, roiScale: 2.5, backbone: 'clip', bootstrapSamples: 200 }, testQueuePrefix());
});
afterAll(() => rig?.close());

it('a clean run on short lock intervals never loses its lock', async () => {
  const worker = await rig.startWorker('clean', 'short');
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
  const id = await rig.submit();
  // Kill points: [progress, intervals of the worker that is killed there].
  const plan = [
    [0.3, 'production'],
    [0.55, 'short'],
    [0.8, 'short'],
  ] as const;
  for (const [i, [at, intervals]] of plan.entries()) {
    const worker = await rig.startWorker(`victim-${i}`, intervals);
    // Taken up by this worker (after i crashes) and at the kill point.
    await rig.waitFor(id, (r) => r.status === 'RUNNING' && r.workerCrashes === i && r.progress >= at, `progress ${at} after ${i} kills`);
    await kill(worker);
  }
  const survivor = await rig.startWorker('survivor', 'short');
  const done = await rig.waitFor(id, (r) => r.status === 'SUCCEEDED', 'the run to succeed after its kills');
  // Each kill was one crash, none used up a RUN_ATTEMPTS attempt, the last worker finished it.
  expect(done).toMatchObject({ workerCrashes: plan.length, attempts: plan.length + 1, error: null });
  expect((done.provenance as any).worker.workerId).toBe('survivor');
  expect(await rig.scores(id)).toEqual(reference); // same values, no duplicated rows
  expect(survivor.output()).not.toMatch(/could not renew lock|Missing lock for job/i);
});
