// GET /sites/bundle: this site's signed public bundle, for other sites to pull. It carries only
// what anonymous visitors may read, so it needs no token. Requests that arrive while a bundle is
// being built share that build, so a burst of pulls costs one catalog read.
import type http from 'node:http';
import type { Services } from '../services';
import { buildBundleContent, signBundle } from './export';
import { siteIdentity } from './identity';
import { BUNDLE_PATH } from './pull';

const building = new WeakMap<Services, Promise<string>>();

/** Answers GET /sites/bundle; false for every other request. */
export async function serveSiteBundle(services: Services, req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<boolean> {
  if (pathname !== BUNDLE_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' }).end(JSON.stringify({ error: `${BUNDLE_PATH} answers GET only` }));
    return true;
  }
  let body = building.get(services);
  if (!body) {
    body = siteIdentity(services)
      .then(async (id) => JSON.stringify(signBundle(id, await buildBundleContent(services, id))))
      .finally(() => building.delete(services));
    building.set(services, body);
  }
  const text = await body;
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : text);
  return true;
}
