import type { Db } from '../db/client';

/** The lab that writes go to when a client names none (the installation's own lab). */
export async function ensureDefaultLab(db: Db, name = 'local') {
  return db.lab.upsert({ where: { name }, update: {}, create: { name } });
}
