// The production profile refuses placeholder and short credentials, naming the variable and
// never echoing the value; docker-compose.yml supplies none of them by default.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, MIN_SECRET_LENGTH } from '../../src/config';

const STRONG = { UPLOAD_SECRET: 'f3a9c1d07b6e4a2f9d8c7b6a5e4d3c2b', S3_SECRET_KEY: '9b8e7d6c5f4a3b2c1d0e', PG: '4e1c9a7b3d5f2e8a6c0b' };
const base = {
  BRAINALIGN_PROFILE: 'production',
  DATABASE_URL: `postgresql://brainalign:${STRONG.PG}@postgres:5432/brainalign`,
  REDIS_URL: 'redis://redis:6379',
  S3_ENDPOINT: 'minio',
  S3_ACCESS_KEY: 'lab-storage',
  S3_SECRET_KEY: STRONG.S3_SECRET_KEY,
  UPLOAD_SECRET: STRONG.UPLOAD_SECRET,
};

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

it('accepts generated credentials', () => {
  const config = loadConfig(base);
  expect(config.uploadSecret).toBe(STRONG.UPLOAD_SECRET);
  expect(config.s3.secretKey).toBe(STRONG.S3_SECRET_KEY);
});

it.each([
  ['UPLOAD_SECRET', { UPLOAD_SECRET: 'change-me-to-a-long-random-string' }, /UPLOAD_SECRET: UPLOAD_SECRET is a placeholder/],
  ['UPLOAD_SECRET', { UPLOAD_SECRET: 'abcdef0123456789abcd' }, new RegExp(`UPLOAD_SECRET: UPLOAD_SECRET is 20 characters; use at least ${MIN_SECRET_LENGTH.UPLOAD_SECRET}`)],
  ['UPLOAD_SECRET', { UPLOAD_SECRET: 'a'.repeat(40) }, /UPLOAD_SECRET: UPLOAD_SECRET repeats too few characters/],
  ['S3_SECRET_KEY', { S3_SECRET_KEY: 'brainalign-secret' }, /S3_SECRET_KEY: S3_SECRET_KEY is a placeholder/],
  ['S3_SECRET_KEY', { S3_SECRET_KEY: 'minioadmin' }, /S3_SECRET_KEY: S3_SECRET_KEY is a placeholder/],
  ['S3_SECRET_KEY', { S3_SECRET_KEY: 'k3y-9x2q' }, /S3_SECRET_KEY: S3_SECRET_KEY is 8 characters; use at least 16/],
  ['S3_ACCESS_KEY', { S3_ACCESS_KEY: 'minioadmin' }, /S3_ACCESS_KEY: S3_ACCESS_KEY is a placeholder/],
  ['DATABASE_URL', { DATABASE_URL: 'postgresql://brainalign:brainalign@postgres:5432/brainalign' }, /DATABASE_URL: the PostgreSQL password in DATABASE_URL is a placeholder/],
  ['DATABASE_URL', { DATABASE_URL: 'postgresql://brainalign:s3cr3t-pw@postgres:5432/brainalign' }, /DATABASE_URL: the PostgreSQL password in DATABASE_URL is 9 characters; use at least 16/],
])('refuses a weak %s, naming it and not showing its value', (_key, overrides, message) => {
  const text = refusal({ ...base, ...overrides });
  expect(text).toMatch(message);
  for (const value of Object.values(overrides)) expect(text).not.toContain(value);
  expect(text).toMatch(/characters, not shown\)/);
});

it('lists every weak credential at once', () => {
  const text = refusal({ ...base, UPLOAD_SECRET: 'change-me-to-a-long-random-string', S3_SECRET_KEY: 'brainalign-secret', DATABASE_URL: 'postgresql://brainalign:brainalign@postgres:5432/brainalign' });
  expect(text.split('\n').filter((l) => /^ {2}[A-Z_0-9]+:/.test(l)).map((l) => l.trim().split(':')[0]).sort()).toEqual(['DATABASE_URL', 'S3_SECRET_KEY', 'UPLOAD_SECRET']);
});

it('checks only what it is given: a URL without a password, a filesystem store', () => {
  expect(() => loadConfig({ ...base, DATABASE_URL: 'postgresql://brainalign@postgres:5432/brainalign' })).not.toThrow();
  expect(() => loadConfig({ ...base, ARTIFACT_STORE: 'fs', S3_SECRET_KEY: 'x', S3_ACCESS_KEY: 'minioadmin' })).not.toThrow();
});

it('leaves the embedded profile alone, and lets a test rig opt out explicitly', () => {
  expect(() => loadConfig({ UPLOAD_SECRET: 'test-upload-secret-0123456789', DATA_DIR: '/tmp/x' })).not.toThrow();
  // The opt-out is recorded, so the API and workers warn at start-up.
  expect(loadConfig({ ...base, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER', ALLOW_WEAK_CREDENTIALS: 'true' }).allowWeakCredentials).toBe(true);
  expect(loadConfig(base).allowWeakCredentials).toBe(false);
});

it('docker-compose.yml supplies no default secret: a missing one stops compose, naming it', () => {
  const compose = readFileSync(path.join(__dirname, '../../docker-compose.yml'), 'utf8');
  for (const name of ['UPLOAD_SECRET', 'POSTGRES_PASSWORD', 'MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD']) {
    // Compose's own substitutions (`$${...}` is the container shell's, set from these).
    const uses = [...compose.matchAll(new RegExp(`(?<!\\$)\\$\\{${name}([^}]*)\\}`, 'g'))].map((m) => m[1]);
    expect(uses.length).toBeGreaterThan(0);
    // ${NAME:?message}: compose refuses to start without it.
    for (const use of uses) expect(use).toMatch(/^:\?/);
  }
  expect(compose).not.toMatch(/change-me|brainalign-secret/);
});
