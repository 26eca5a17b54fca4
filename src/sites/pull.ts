// Fetches a trusted site's public bundle over HTTP (GET <url>/sites/bundle) for import.
import { bundleMalformed, siteUnreachable } from './errors';

export const BUNDLE_PATH = '/sites/bundle';
const PULL_TIMEOUT_MS = 30_000;
/** Larger than any bundle a site serves (arrays are capped well below this). */
export const MAX_PULLED_BYTES = 64 * 1024 * 1024;

/** Where a site serves its bundle, from the URL an operator gave (tolerates a trailing /graphql). */
export function bundleUrl(siteUrl: string): string {
  return `${siteUrl.replace(/\/+$/, '').replace(/\/graphql$/, '')}${BUNDLE_PATH}`;
}

export async function fetchBundle(site: { name: string; url: string }): Promise<unknown> {
  if (!site.url) throw siteUnreachable(site.name, '(none)', 'no URL is recorded for this site; set one with trustSite');
  const url = bundleUrl(site.url);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(PULL_TIMEOUT_MS), redirect: 'error' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${PULL_TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw siteUnreachable(site.name, url, reason);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw siteUnreachable(site.name, url, `HTTP ${res.status}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_PULLED_BYTES) throw siteUnreachable(site.name, url, `the bundle exceeds ${MAX_PULLED_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw bundleMalformed(`The bundle served at ${url} is not JSON: ${(err as Error).message}`);
  }
}
