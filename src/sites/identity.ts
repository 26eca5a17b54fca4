// This deployment's signing identity. A mounted key (SITE_KEY_FILE, validated at start-up) wins;
// otherwise the first process to need one generates an Ed25519 key pair and keeps the private
// key in the artifact store, encrypted (AES-256-GCM, key-envelope.ts) with SITE_KEY_SECRET, with
// the envelope's hash and the public key in the SiteIdentity row, so every API replica and later
// start signs with the same key. A plain PEM stored by an earlier version is encrypted on read.
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import type { Services } from '../services';
import { generateSigningKey, keyFingerprint, privateKeyFromPem, privateKeyToPem, rawPublicKey } from './ed25519';
import { isPlainPem, openSiteKey, sealSiteKey, SiteKeySecretError } from './key-envelope';

export interface SiteIdentity {
  name: string;
  url: string;
  /** Base64 of the raw 32-byte Ed25519 public key. */
  publicKey: string;
  fingerprint: string;
  privateKey: KeyObject;
}

const ROW_ID = 'self';
const identities = new WeakMap<Services, Promise<SiteIdentity>>();

/** The identity of the site `services` belong to, loaded (or created) once per process. */
export function siteIdentity(services: Services): Promise<SiteIdentity> {
  let pending = identities.get(services);
  if (!pending) {
    pending = loadKey(services).then((privateKey) => {
      const publicKey = rawPublicKey(privateKey);
      return { name: services.config.site.name, url: services.config.site.url, publicKey, fingerprint: keyFingerprint(publicKey), privateKey };
    });
    // A failed load (store down) is retried by the next caller rather than cached.
    pending.catch(() => identities.delete(services));
    identities.set(services, pending);
  }
  return pending;
}

/**
 * The secret the stored key is encrypted with: SITE_KEY_SECRET, or in the embedded profile one
 * derived from the installation's own upload secret (kept in its data directory).
 */
export function siteKeySecret(config: Services['config']): string {
  if (config.site.keySecret) return config.site.keySecret;
  if (config.profile === 'embedded' && config.uploadSecret) return `embedded-site-key:${config.uploadSecret}`;
  throw new SiteKeySecretError('SITE_KEY_SECRET is required in the production profile unless SITE_KEY_FILE mounts the site key');
}

async function readAll(store: Services['store'], sha256: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(sha256)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function loadKey(services: Services): Promise<KeyObject> {
  if (services.config.site.keyFile) return privateKeyFromPem(readFileSync(services.config.site.keyFile, 'utf8'));
  const { db, store } = services;
  const secret = siteKeySecret(services.config);
  let row = await db.siteIdentity.findUnique({ where: { id: ROW_ID } });
  if (!row) {
    const key = generateSigningKey();
    const put = await store.putStream(sealSiteKey(privateKeyToPem(key), secret));
    // Replicas starting together race here: the first row wins and everyone reads it back.
    await db.siteIdentity.createMany({ data: [{ id: ROW_ID, publicKey: rawPublicKey(key), keySha256: put.sha256 }], skipDuplicates: true });
    row = await db.siteIdentity.findUniqueOrThrow({ where: { id: ROW_ID } });
  }
  const stored = await readAll(store, row.keySha256);
  const plain = isPlainPem(stored);
  const key = privateKeyFromPem(plain ? stored.toString('utf8') : openSiteKey(stored, secret));
  if (rawPublicKey(key) !== row.publicKey) throw new Error('The site key in the artifact store does not match the recorded public key');
  if (plain) {
    // Stored before keys were encrypted: replace it by its envelope, then drop the plain copy.
    const sealed = await store.putStream(sealSiteKey(stored.toString('utf8'), secret));
    const moved = await db.siteIdentity.updateMany({ where: { id: ROW_ID, keySha256: row.keySha256 }, data: { keySha256: sealed.sha256 } });
    if (moved.count === 1) await store.delete(row.keySha256);
  }
  return key;
}
