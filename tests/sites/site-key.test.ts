// The site's private key at rest: encrypted with AES-256-GCM under SITE_KEY_SECRET (or, in the
// embedded profile, a secret derived from the installation's own), a plain PEM left by an earlier
// version encrypted on first read, and a wrong secret refused with a message saying so.
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config';
import type { Services } from '../../src/services';
import { rawPublicKey } from '../../src/sites/ed25519';
import { siteIdentity, siteKeySecret } from '../../src/sites/identity';
import { openSiteKey, sealSiteKey, SiteKeySecretError } from '../../src/sites/key-envelope';
import { startTestApi, type TestApi } from '../helpers/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());
beforeEach(() => api.db.siteIdentity.deleteMany());

const SECRET = 'a-site-key-secret-of-at-least-32-characters';
/** A fresh process's view (siteIdentity caches per services object), with its own site settings. */
const fresh = (site: Partial<Services['config']['site']> = {}, profile?: 'production'): Services => ({
  ...api.services,
  config: { ...api.services.config, ...(profile ? { profile } : {}), site: { ...api.services.config.site, ...site } },
});

async function storedBytes(): Promise<Buffer> {
  const row = await api.db.siteIdentity.findUniqueOrThrow({ where: { id: 'self' } });
  const chunks: Buffer[] = [];
  for await (const c of await api.services.store.get(row.keySha256)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('a generated key is stored encrypted, and the next process reads it back with the same secret', async () => {
  const first = await siteIdentity(fresh({ keySecret: SECRET }));
  const bytes = await storedBytes();
  expect(bytes.toString('utf8')).not.toContain('PRIVATE KEY');
  expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ format: 'brainalign-site-key-v1', cipher: 'aes-256-gcm', kdf: 'hkdf-sha256' });
  expect(rawPublicKey(await import('node:crypto').then((c) => c.createPrivateKey(openSiteKey(bytes, SECRET))))).toBe(first.publicKey);
  expect((await siteIdentity(fresh({ keySecret: SECRET }))).publicKey).toBe(first.publicKey);
});

test('a wrong secret is refused with the reason, and nothing is replaced', async () => {
  const first = await siteIdentity(fresh({ keySecret: SECRET }));
  const before = await api.db.siteIdentity.findUniqueOrThrow({ where: { id: 'self' } });
  await expect(siteIdentity(fresh({ keySecret: 'another-secret-of-at-least-32-characters!' }))).rejects.toThrow(
    /SITE_KEY_SECRET does not decrypt the stored site key/,
  );
  expect(await api.db.siteIdentity.findUniqueOrThrow({ where: { id: 'self' } })).toEqual(before);
  expect((await siteIdentity(fresh({ keySecret: SECRET }))).publicKey).toBe(first.publicKey);
});

test('a plain PEM stored by an earlier version is encrypted on read and the plain copy removed', async () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  const pem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  const plain = await api.services.store.putStream(Buffer.from(pem));
  await api.db.siteIdentity.create({ data: { id: 'self', publicKey: rawPublicKey(key), keySha256: plain.sha256 } });
  const identity = await siteIdentity(fresh({ keySecret: SECRET }));
  expect(identity.publicKey).toBe(rawPublicKey(key));
  const row = await api.db.siteIdentity.findUniqueOrThrow({ where: { id: 'self' } });
  expect(row.keySha256).not.toBe(plain.sha256);
  expect(await api.services.store.exists(plain.sha256)).toBe(false);
  expect(openSiteKey(await storedBytes(), SECRET)).toBe(pem);
});

test('the embedded profile derives its secret from the installation; production requires SITE_KEY_SECRET', async () => {
  expect(siteKeySecret(api.services.config)).toContain(api.services.config.uploadSecret);
  const embedded = await siteIdentity(fresh());
  expect((await storedBytes()).toString('utf8')).not.toContain('PRIVATE KEY');
  expect((await siteIdentity(fresh())).publicKey).toBe(embedded.publicKey);
  await expect(siteIdentity(fresh({}, 'production'))).rejects.toThrow(SiteKeySecretError);
  await expect(siteIdentity(fresh({}, 'production'))).rejects.toThrow(/SITE_KEY_SECRET is required in the production profile unless SITE_KEY_FILE/);
  expect(() => loadConfig({ SITE_KEY_SECRET: 'short' })).toThrow(/SITE_KEY_SECRET: expected at least 32 characters/);
});

test('the envelope is authenticated: a changed byte does not decrypt', () => {
  const sealed = JSON.parse(sealSiteKey('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n', SECRET).toString());
  const ct = Buffer.from(sealed.ciphertext, 'base64');
  ct[3] ^= 1;
  const tampered = Buffer.from(JSON.stringify({ ...sealed, ciphertext: ct.toString('base64') }));
  expect(() => openSiteKey(tampered, SECRET)).toThrow(SiteKeySecretError);
});
