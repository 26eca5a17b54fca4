-- Times a run lost its worker (process killed, host lost) and was taken up again; counted apart
-- from Run.attempts so crashes are bounded by WORKER_CRASH_RETRIES, not by RUN_ATTEMPTS.
ALTER TABLE "Run" ADD COLUMN "workerCrashes" INTEGER NOT NULL DEFAULT 0;
