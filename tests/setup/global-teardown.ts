import IORedis from 'ioredis';
import { dropDatabase } from '../../src/db/migrate';

export default async function globalTeardown(): Promise<void> {
  const { TEST_PG_SERVER_URL, TEST_DATABASE_NAME, TEST_REDIS_URL, TEST_QUEUE_PREFIX } = process.env;
  if (TEST_PG_SERVER_URL && TEST_DATABASE_NAME && !process.env.KEEP_TEST_DB)
    await dropDatabase(TEST_PG_SERVER_URL, TEST_DATABASE_NAME);
  if (TEST_REDIS_URL && TEST_QUEUE_PREFIX) {
    const redis = new IORedis(TEST_REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${TEST_QUEUE_PREFIX}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
  }
}
