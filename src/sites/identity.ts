// This deployment's signing identity. A mounted key (SITE_KEY_FILE, validated at start-up) wins;
// otherwise the first process to need one generates an Ed25519 key pair and keeps the private
// key's PEM in the artifact store, with its hash and the public key in the SiteIdentity row, so
// every API replica and later start signs with the same key.
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import type { Services } from '../services';
import { generateSigningKey, keyFingerprint, privateKeyFromPem, privateKeyToPem, rawPublicKey } from './ed25519';

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

async function loadKey(services: Services): Promise<KeyObject> {
  if (services.config.site.keyFile) return privateKeyFromPem(readFileSync(services.config.site.keyFile, 'utf8'));
  const { db, store } = services;
  let row = await db.siteIdentity.findUnique({ where: { id: ROW_ID } });
  if (!row) {
    const key = generateSigningKey();
    const put = await store.putStream(Buffer.from(privateKeyToPem(key)));
    // Replicas starting together race here: the first row wins and everyone reads it back.
    await db.siteIdentity.createMany({ data: [{ id: ROW_ID, publicKey: rawPublicKey(key), keySha256: put.sha256 }], skipDuplicates: true });
    row = await db.siteIdentity.findUniqueOrThrow({ where: { id: ROW_ID } });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(row.keySha256)) chunks.push(chunk as Buffer);
  const key = privateKeyFromPem(Buffer.concat(chunks).toString('utf8'));
  if (rawPublicKey(key) !== row.publicKey) throw new Error('The site key in the artifact store does not match the recorded public key');
  return key;
}
