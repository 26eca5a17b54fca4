// Ed25519 keys as bundles carry them: the raw 32-byte public key in base64, signatures in base64.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function generateSigningKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 private key, found ${key.asymmetricKeyType}`);
  return key;
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Base64 of the raw 32-byte public key of a private (or public) key. */
export function rawPublicKey(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return der.subarray(SPKI_PREFIX.length).toString('base64');
}

/** The public key from its base64 raw form; undefined when it is not 32 bytes of base64. */
export function publicKeyFromRaw(raw: string): KeyObject | undefined {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(raw)) return undefined;
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length !== 32) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** What operators compare out of band before trusting a site: sha256 of the raw public key. */
export function keyFingerprint(raw: string): string {
  const hex = createHash('sha256').update(Buffer.from(raw, 'base64')).digest('hex');
  return `SHA256:${hex.match(/.{4}/g)!.join(':')}`;
}

export function signBytes(key: KeyObject, bytes: Buffer): string {
  return sign(null, bytes, key).toString('base64');
}

export function verifyBytes(publicKey: KeyObject, bytes: Buffer, signature: string): boolean {
  if (typeof signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  const sig = Buffer.from(signature, 'base64');
  return sig.length === 64 && verify(null, bytes, publicKey, sig);
}
