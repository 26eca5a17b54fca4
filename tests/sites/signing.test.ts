// Canonical JSON and Ed25519 as bundles use them, checked against the published references:
// RFC 8785's examples for canonical JSON and RFC 8032's test vectors for Ed25519.
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { canonicalJson } from '../../src/sites/canonical-json';
import { keyFingerprint, privateKeyFromPem, privateKeyToPem, publicKeyFromRaw, rawPublicKey, signBytes, verifyBytes } from '../../src/sites/ed25519';

// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte, 0x72).
const vectors = [
  {
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

function keyFromSeed(hex: string) {
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(hex, 'hex')]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

describe('Ed25519 signing', () => {
  it.each(vectors)('reproduces RFC 8032 vector for message %#', (v) => {
    const key = keyFromSeed(v.secret);
    expect(Buffer.from(rawPublicKey(key), 'base64').toString('hex')).toBe(v.publicKey);
    const signature = signBytes(key, Buffer.from(v.message, 'hex'));
    expect(Buffer.from(signature, 'base64').toString('hex')).toBe(v.signature);
    const pub = publicKeyFromRaw(Buffer.from(v.publicKey, 'hex').toString('base64'))!;
    expect(verifyBytes(pub, Buffer.from(v.message, 'hex'), signature)).toBe(true);
  });

  it('rejects a flipped message byte, a flipped signature byte and garbage keys', () => {
    const key = keyFromSeed(vectors[1].secret);
    const pub = publicKeyFromRaw(rawPublicKey(key))!;
    const sig = signBytes(key, Buffer.from('72', 'hex'));
    expect(verifyBytes(pub, Buffer.from('73', 'hex'), sig)).toBe(false);
    const bad = Buffer.from(sig, 'base64');
    bad[10] ^= 1;
    expect(verifyBytes(pub, Buffer.from('72', 'hex'), bad.toString('base64'))).toBe(false);
    expect(verifyBytes(pub, Buffer.from('72', 'hex'), 'not base64!')).toBe(false);
    expect(publicKeyFromRaw('abc')).toBeUndefined();
    expect(publicKeyFromRaw(Buffer.alloc(31).toString('base64'))).toBeUndefined();
  });

  it('round-trips the PEM kept in the store and agrees with node:crypto on the public key', () => {
    const key = keyFromSeed(vectors[0].secret);
    const again = privateKeyFromPem(privateKeyToPem(key));
    expect(rawPublicKey(again)).toBe(rawPublicKey(key));
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    expect(verify(null, Buffer.alloc(0), createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(vectors[0].signature, 'hex'))).toBe(true);
    expect(keyFingerprint(rawPublicKey(key))).toMatch(/^SHA256:([0-9a-f]{4}:){15}[0-9a-f]{4}$/);
  });
});

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units at every level, as RFC 8785 section 3.2.3 shows', () => {
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    const keys = [...canonicalJson(value).matchAll(/"([^"]*)":/g)].map((m) => JSON.parse(`"${m[1]}"`));
    expect(keys).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  it('writes numbers as RFC 8785 appendix B does and leaves no whitespace', () => {
    // Appendix B pairs of IEEE 754 values and their canonical text.
    const cases: [number, string][] = [
      [0, '0'],
      [-0, '0'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [9007199254740992, '9007199254740992'],
      [295147905179352830000, '295147905179352830000'],
      [1e21, '1e+21'],
      [333333333.3333333, '333333333.3333333'],
      [0.000001, '0.000001'],
      [1e-7, '1e-7'],
    ];
    for (const [n, text] of cases) expect(canonicalJson(n)).toBe(text);
    expect(canonicalJson({ b: [1, 'x', null, true], a: { d: 0.5, c: 'é\n' } })).toBe('{"a":{"c":"é\\n","d":0.5},"b":[1,"x",null,true]}');
  });

  it('is the same text after a JSON round trip, and refuses what JSON cannot carry', () => {
    const value = { run: { scores: [{ value: 0.123456789012345, ciLow: -1e-9 }] }, z: [], y: {} };
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
    expect(() => canonicalJson({ x: NaN })).toThrow(/NaN/);
    expect(() => canonicalJson({ x: Infinity })).toThrow(/Infinity/);
  });
});
