// Runs a demo module's seed and queue steps against the test API, as the embedded start does.
import type { TestApi } from '../helpers/api';

export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

export function recordingLog() {
  const lines: LogLine[] = [];
  const log = (level: string, message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields });
  return { lines, log };
}

/** Polls a queue step (true = done) the way whenReady does, without the timer. */
export async function untilQueued(step: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await step())) {
    if (Date.now() > deadline) throw new Error('the demo step never found its imports READY');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The demo runs of the default lab, newest last. */
export async function demoRuns(api: TestApi, kind: string) {
  return api.db.run.findMany({ where: { labId: api.services.defaultLabId, kind: kind as any }, orderBy: { createdAt: 'asc' } });
}
