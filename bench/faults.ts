// Worker crashes at full size: real ENCODING_RIDGE runs (default 2,500 stimuli x ~8,000 voxels x
// 768 features) on BullMQ workers in their own processes, SIGKILLed at several progress points
// with the production lock/stall settings and with short ones, one run killed three times, and
// clean runs. Every run must end SUCCEEDED with the scores of the clean run, no score duplicated,
// and no worker may log a lost lock. Same machinery as tests/queue/fault-injection.test.ts.
//
//   npm run bench -- faults [--small] [--stimuli 2500] [--roi-scale 8] [--backbone dino]
//                           [--points 0.2,0.5,0.8] [--bootstrap 1000]
//
// Needs PostgreSQL and Redis as npm test does (TEST_PG_SERVER_URL, TEST_REDIS_URL); uses a fresh
// database and key prefix and removes the database afterwards.
import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase, migrate } from '../src/db/migrate';
import { LOCK_TROUBLE, intervalEnv, runThroughKills, startFaultRig, type Intervals, type Kill } from '../tests/helpers/fault-injection';

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}

export async function main(args: string[]): Promise<void> {
  const small = args.includes('--small');
  const stimuli = Number(arg(args, 'stimuli', small ? '300' : '2500'));
  const nShared = Math.round(stimuli / 5);
  const size = {
    nTrain: stimuli - nShared,
    nShared,
    roiScale: Number(arg(args, 'roi-scale', small ? '1' : '8')),
    backbone: arg(args, 'backbone', small ? 'clip' : 'dino') as 'clip' | 'dino',
    bootstrapSamples: Number(arg(args, 'bootstrap', small ? '100' : '1000')),
  };
  const points = arg(args, 'points', '0.2,0.5,0.8').split(',').map(Number);

  const server = process.env.TEST_PG_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `ba_bench_faults_${runId}`;
  await ensureDatabase(server, dbName);
  process.env.TEST_DATABASE_URL = server.replace(/\/[^/]*$/, `/${dbName}`);
  process.env.TEST_REDIS_URL ??= 'redis://127.0.0.1:6379';
  const started = Date.now();
  let rig: Awaited<ReturnType<typeof startFaultRig>> | undefined;
  try {
    await migrate(process.env.TEST_DATABASE_URL);
    rig = await startFaultRig(size, `ba_bench_faults_${runId}`);
    // Scenarios: a clean run per interval setting (the first is the reference), one kill per
    // point per setting, and one run killed at every point in turn (short intervals).
    const scenarios: { name: string; kills: Kill[]; finisher: Intervals }[] = [
      { name: 'clean-short', kills: [], finisher: 'short' },
      { name: 'clean-production', kills: [], finisher: 'production' },
      ...(['production', 'short'] as const).flatMap((intervals) => points.map((at) => ({ name: `kill-${intervals}-${at}`, kills: [{ at, intervals }], finisher: intervals }))),
      { name: 'kills-short-all', kills: points.map((at) => ({ at, intervals: 'short' as const })), finisher: 'short' },
    ];
    let reference: string[] | undefined;
    const results: Record<string, unknown>[] = [];
    let kills = 0;
    let succeeded = 0;
    let failed = 0;
    let open = 0;
    let duplicated = 0;
    let mismatched = 0;
    let lockTrouble = 0;
    let maxBlockMs = 0;
    for (const s of scenarios) {
      const t0 = Date.now();
      const out = await runThroughKills(rig, s.kills, s.finisher, s.name).catch((err: Error) => ({ error: err }));
      if ('error' in out) {
        open++;
        results.push({ scenario: s.name, error: out.error.message.split('\n')[0] });
        continue;
      }
      kills += s.kills.length;
      if (out.run.status === 'SUCCEEDED') succeeded++;
      else if (out.run.status === 'FAILED') failed++;
      else open++;
      const rows = await rig.api.db.score.findMany({ where: { runId: out.id }, select: { metric: true, scope: true } });
      duplicated += rows.length - new Set(rows.map((r) => `${r.metric}|${r.scope}`)).size;
      const scores = await rig.scores(out.id);
      reference ??= scores;
      const same = JSON.stringify(scores) === JSON.stringify(reference);
      if (!same) mismatched++;
      // Lost locks count only where no kill explains them: the finishing worker's own log.
      const trouble = out.finisher.output().split('\n').filter((l) => LOCK_TROUBLE.test(l) && !/stalled \(its worker stopped/.test(l)).length;
      lockTrouble += trouble;
      const block = (out.run.provenance as any)?.eventLoop?.maxBlockMs ?? 0;
      maxBlockMs = Math.max(maxBlockMs, block);
      results.push({ scenario: s.name, status: out.run.status, kills: s.kills.length, workerCrashes: out.run.workerCrashes, sameScores: same, lockTroubleLines: trouble, maxEventLoopBlockMs: block, seconds: (Date.now() - t0) / 1000 });
      console.error(JSON.stringify(results[results.length - 1]));
    }
    console.log(
      JSON.stringify({
        bench: 'faults',
        runs: scenarios.length,
        kills,
        succeeded,
        failed,
        open,
        duplicated_scores: duplicated,
        mismatched_scores: mismatched,
        lock_trouble_lines: lockTrouble,
        max_event_loop_block_ms: maxBlockMs,
        intervals: { production: intervalEnv('production'), short: intervalEnv('short') },
        size: { ...size, nVoxels: rig.nVoxels },
        seconds: (Date.now() - started) / 1000,
        scenarios: results,
      }),
    );
  } finally {
    await rig?.close().catch(() => undefined);
    await dropDatabase(server, dbName).catch(() => undefined);
  }
}
