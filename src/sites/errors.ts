// Refusals of a bundle, each with a stable code scripts can branch on.
import { DomainError } from '../errors';

export const bundleMalformed = (message: string, field?: string) =>
  new DomainError('BUNDLE_MALFORMED', message, field ? { field } : {});

export const signatureInvalid = (site: string) =>
  new DomainError(
    'BUNDLE_SIGNATURE_INVALID',
    `The bundle's signature does not match its content for site ${JSON.stringify(site)}: it was altered after signing (or signed by another key). Nothing was imported; ask the site for a fresh export.`,
    { site },
  );

export const untrustedSite = (site: string) =>
  new DomainError(
    'UNTRUSTED_SITE',
    `Site ${JSON.stringify(site)} is not on this site's trusted list; an operator adds it with trustSite(input: { name, publicKey, url }) after checking its key fingerprint.`,
    { site },
  );

export const keyMismatch = (site: string, expected: string, got: string) =>
  new DomainError(
    'SITE_KEY_MISMATCH',
    `The bundle claims to come from site ${JSON.stringify(site)} but carries public key ${got}, not the trusted key ${expected}. If the site rotated its key, an operator must trust the new key first.`,
    { site, expectedKey: expected, bundleKey: got },
  );

export const bundleReplayed = (site: string, created: string, newest: string) =>
  new DomainError(
    'BUNDLE_REPLAYED',
    `This bundle from site ${JSON.stringify(site)} was signed at ${created}, before the newest bundle already imported from it (${newest}); an older bundle would roll its scores back.`,
    { site, bundleCreatedAt: created, newestImportedAt: newest },
  );

export const siteUnreachable = (site: string, url: string, reason: string) =>
  new DomainError('SITE_UNREACHABLE', `Could not fetch the public bundle of site ${JSON.stringify(site)} from ${url}: ${reason}`, { site, url });
