// The site's private key at rest: AES-256-GCM under a key derived (HKDF-SHA256, random salt) from
// SITE_KEY_SECRET, so the bytes in the artifact store are useless without the environment's
// secret. A plain PEM (written before keys were encrypted) is recognised so it can be migrated.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const MAGIC = 'brainalign-site-key-v1';
const INFO = Buffer.from('brainalign site key encryption v1');

export class SiteKeySecretError extends Error {}

function derive(secret: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, INFO, 32));
}

/** The encrypted envelope (JSON) of a private key's PEM. */
export function sealSiteKey(pem: string, secret: string): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(secret, salt), iv);
  cipher.setAAD(Buffer.from(MAGIC));
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  const b64 = (b: Buffer) => b.toString('base64');
  return Buffer.from(
    JSON.stringify({ format: MAGIC, cipher: 'aes-256-gcm', kdf: 'hkdf-sha256', salt: b64(salt), iv: b64(iv), tag: b64(cipher.getAuthTag()), ciphertext: b64(ciphertext) }),
  );
}

/** True for a plain PEM as stored before encryption. */
export function isPlainPem(bytes: Buffer): boolean {
  return bytes.subarray(0, 64).toString('latin1').trimStart().startsWith('-----BEGIN');
}

/** The PEM inside an envelope; SiteKeySecretError when the secret is not the one it was sealed with. */
export function openSiteKey(bytes: Buffer, secret: string): string {
  let env: { format?: string; salt: string; iv: string; tag: string; ciphertext: string };
  try {
    env = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new SiteKeySecretError('The stored site key is neither an encrypted envelope nor a PEM');
  }
  if (env.format !== MAGIC) throw new SiteKeySecretError(`The stored site key has format ${JSON.stringify(env.format)}, expected ${MAGIC}`);
  const decipher = createDecipheriv('aes-256-gcm', derive(secret, Buffer.from(env.salt, 'base64')), Buffer.from(env.iv, 'base64'));
  decipher.setAAD(Buffer.from(MAGIC));
  decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(env.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SiteKeySecretError(
      'SITE_KEY_SECRET does not decrypt the stored site key: it is not the secret the key was encrypted with (restore that secret; a new one would change the site identity other sites trust)',
    );
  }
}
