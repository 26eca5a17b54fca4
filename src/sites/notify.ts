// Imported rows change what leaderboards show, so the writes that touch them announce it on the
// change feed the leaderboard response cache listens to (delivered when the transaction commits).
import type { Db } from '../db/client';
import { CHANGE_CHANNEL } from '../db/change-feed';

export async function announceImportedScoresChanged(tx: Pick<Db, '$executeRaw'>): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${CHANGE_CHANNEL}, 'ImportedScore')`;
}
