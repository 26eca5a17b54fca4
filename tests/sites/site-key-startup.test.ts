// The production API checks its site key at start-up: it refuses to start without
// SITE_KEY_SECRET (or a mounted SITE_KEY_FILE), and with a secret that does not decrypt the
// stored key, naming the variable and the problem.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService } from '../../src/app';
import { loadConfig } from '../../src/config';
import { silentLog } from '../../src/log';
import { testDatabaseUrl } from '../helpers/db';
import { freePort } from '../helpers/ports';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ba-sitekey-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function production(extra: Record<string, string>) {
  const config = loadConfig({
    BRAINALIGN_PROFILE: 'production',
    ARTIFACT_STORE: 'fs',
    DATA_DIR: dataDir,
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL: process.env.TEST_REDIS_URL!,
    QUEUE_PREFIX: `${process.env.TEST_QUEUE_PREFIX}_sitekey`,
    UPLOAD_SECRET: 'site-key-startup-upload-secret',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    LOG_LEVEL: 'error',
    ...extra,
  });
  return startService(config, silentLog);
}

test('no secret, then the right one, then a wrong one', async () => {
  await expect(production({})).rejects.toThrow(/SITE_KEY_SECRET: required in the production profile unless SITE_KEY_FILE/);
  const secret = 'the-right-site-key-secret-0123456789';
  const service = await production({ SITE_KEY_SECRET: secret });
  const row = await service.services.db.siteIdentity.findUniqueOrThrow({ where: { id: 'self' } });
  await service.close();
  await expect(production({ SITE_KEY_SECRET: 'a-wrong-site-key-secret-0123456789' })).rejects.toThrow(/SITE_KEY_SECRET does not decrypt the stored site key/);
  const again = await production({ SITE_KEY_SECRET: secret });
  expect((await again.services.db.siteIdentity.findUniqueOrThrow({ where: { id: 'self' } })).publicKey).toBe(row.publicKey);
  await again.close();
});
