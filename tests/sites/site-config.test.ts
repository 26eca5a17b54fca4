// Site settings: name and URL defaults, and a mounted Ed25519 key checked at start-up.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import type { Services } from '../../src/services';
import { rawPublicKey } from '../../src/sites/ed25519';
import { siteIdentity } from '../../src/sites/identity';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ba-site-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('site configuration', () => {
  it('defaults to the name "local" and the public URL', () => {
    expect(loadConfig({ PORT: '4100' }).site).toEqual({ name: 'local', url: 'http://localhost:4100', keyFile: undefined });
    expect(loadConfig({ SITE_NAME: 'lab-x.brainalign', SITE_URL: 'https://x.example.org/' }).site).toMatchObject({
      name: 'lab-x.brainalign',
      url: 'https://x.example.org',
    });
  });

  it('names the variable and the problem for a bad name, URL or key file', () => {
    expect(() => loadConfig({ SITE_NAME: 'has space' })).toThrow(/SITE_NAME: expected 1-63 letters/);
    expect(() => loadConfig({ SITE_URL: 'not a url' })).toThrow(/SITE_URL: expected an absolute URL/);
    expect(() => loadConfig({ SITE_KEY_FILE: path.join(dir, 'missing.pem') })).toThrow(/SITE_KEY_FILE: cannot read the site key file \(ENOENT\)/);
    expect(() => loadConfig({ SITE_KEY_FILE: write('junk.pem', 'not a key') })).toThrow(/SITE_KEY_FILE: expected a PEM-encoded Ed25519 private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => loadConfig({ SITE_KEY_FILE: write('rsa.pem', rsa) })).toThrow(ConfigError);
    expect(() => loadConfig({ SITE_KEY_FILE: path.join(dir, 'rsa.pem') })).toThrow(/expected an Ed25519 private key, found rsa/);
  });

  it('signs with a mounted key instead of generating one', async () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const file = write('site.pem', key.export({ type: 'pkcs8', format: 'pem' }) as string);
    const config = loadConfig({ SITE_NAME: 'mounted', SITE_KEY_FILE: file });
    // Neither the database nor the store is touched when a key is mounted.
    const identity = await siteIdentity({ config } as Services);
    expect(identity).toMatchObject({ name: 'mounted', publicKey: rawPublicKey(key) });
  });
});
