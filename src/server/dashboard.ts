// Serves the built dashboard (web/dist) under /dashboard/: hashed assets cached for a year,
// index.html for every other path below it so client-side routes survive a reload.
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RouteHandler } from './route';

export const DASHBOARD_PATH = '/dashboard/';
const DEFAULT_DIR = path.resolve(__dirname, '../../web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export function createDashboardHandler(dir: string = DEFAULT_DIR): RouteHandler {
  const root = path.resolve(dir);
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname === '/dashboard') {
      res.writeHead(301, { location: DASHBOARD_PATH + url.search }).end();
      return true;
    }
    if (!url.pathname.startsWith(DASHBOARD_PATH)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const index = path.join(root, 'index.html');
    if (!existsSync(index)) {
      res
        .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
        .end('The dashboard has not been built; run `npm run build:web` (npm start does it when needed).\n');
      return true;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname.slice(DASHBOARD_PATH.length));
    } catch {
      rel = '';
    }
    const file = path.resolve(root, rel);
    const inside = file.startsWith(root + path.sep);
    const isFile = inside && existsSync(file) && statSync(file).isFile();
    // A missing asset is a 404 (a stale page asking for an old hash), any other path is a route.
    if (!isFile && rel.startsWith('assets/')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('No such dashboard asset\n');
      return true;
    }
    const target = isFile ? file : index;
    const hashed = isFile && rel.startsWith('assets/');
    res.writeHead(200, {
      'content-type': TYPES[path.extname(target)] ?? 'application/octet-stream',
      'content-length': statSync(target).size,
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(target);
      stream.on('error', reject);
      stream.on('end', resolve);
      stream.pipe(res);
    });
    return true;
  };
}
