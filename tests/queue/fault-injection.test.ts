// Worker crashes on real ENCODING_RIDGE runs, large enough that an unbounded compute step would
// hold the event loop for a long while: workers are SIGKILLed at several progress points, with the
// production lock and stall settings and with short ones, and every run ends SUCCEEDED with the
// scores of an undisturbed run. `npm run bench -- faults` runs the same at full size.
//
// Worker start-up (a process loading ONNX Runtime) is most of the wall time, so the next worker
// is started while the current one still computes; it waits idle, since the running job's lock
// keeps it from the run until the kill.
import { LOCK_TROUBLE, runThroughKills, startFaultRig, type FaultRig, type WorkerChild } from '../helpers/fault-injection';
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

it('survives SIGKILLs while loading, as the fit starts and inside it (production intervals, then short ones) and ends with the same scores', async () => {
  const kills = [
    // Points each followed by the whole ridge fit (progress 0.15 to 0.70), so however fast the
    // machine the run is still running when the point is seen: responses loading, the fit's
    // start, and after its first decomposition.
    { at: 0.08, intervals: 'production' },
    { at: 0.15, intervals: 'short' },
    { at: 0.2, intervals: 'short' },
  ] as const;
  const { run, id, finisher } = await runThroughKills(rig, [...kills], 'short', 'kills');
  // Each kill was one crash, none used up a RUN_ATTEMPTS attempt, the last worker finished it.
  expect(run).toMatchObject({ status: 'SUCCEEDED', workerCrashes: 3, attempts: 4, error: null });
  expect((run.provenance as any).worker.workerId).toBe('kills-finisher');
  expect(await rig.scores(id)).toEqual(reference); // same values, no duplicated rows
  expect(finisher.output()).not.toMatch(/could not renew lock|Missing lock for job/i);
});
