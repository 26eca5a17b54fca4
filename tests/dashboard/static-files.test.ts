// Serving the built dashboard: content types, caching, client-side routes, and nothing outside
// the build directory.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDashboardHandler } from '../../src/server/dashboard';

let dir: string;
let server: http.Server;
let origin: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ba-dashboard-dist-'));
  mkdirSync(path.join(dir, 'dist/assets'), { recursive: true });
  writeFileSync(path.join(dir, 'dist/index.html'), '<!doctype html><title>dashboard</title>');
  writeFileSync(path.join(dir, 'dist/assets/index-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'dist/assets/index-abc123.css'), 'body{}');
  writeFileSync(path.join(dir, 'secret.txt'), 'outside the build');
  const dashboard = createDashboardHandler(path.join(dir, 'dist'));
  server = http.createServer(async (req, res) => {
    if (!(await dashboard(req, res))) res.writeHead(418).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

it('serves hashed assets with their content type and a long cache life', async () => {
  const js = await fetch(`${origin}/dashboard/assets/index-abc123.js`);
  expect(js.status).toBe(200);
  expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(await js.text()).toBe('console.log(1)');
  const css = await fetch(`${origin}/dashboard/assets/index-abc123.css`);
  expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
});

it('answers client-side routes with index.html, never cached', async () => {
  for (const p of ['/dashboard/', '/dashboard/runs/0c1d', '/dashboard/benchmarks/x?roi=FFA']) {
    const res = await fetch(origin + p);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('<title>dashboard</title>');
  }
  const bare = await fetch(`${origin}/dashboard?x=1`, { redirect: 'manual' });
  expect(bare.status).toBe(301);
  expect(bare.headers.get('location')).toBe('/dashboard/?x=1');
});

it('gives 404 for a missing asset and never serves files outside the build', async () => {
  expect((await fetch(`${origin}/dashboard/assets/index-old999.js`)).status).toBe(404);
  for (const p of ['/dashboard/..%2fsecret.txt', '/dashboard/%2e%2e/secret.txt', '/dashboard/assets/..%2f..%2fsecret.txt']) {
    const res = await fetch(origin + p);
    expect(await res.text()).not.toContain('outside the build');
  }
});

it('leaves other paths to the next route and refuses writes', async () => {
  expect((await fetch(`${origin}/graphql`)).status).toBe(418);
  expect((await fetch(`${origin}/dashboard/`, { method: 'POST' })).status).toBe(405);
});

it('says how to build the dashboard when it has not been built', async () => {
  const missing = createDashboardHandler(path.join(dir, 'nowhere'));
  const s = http.createServer((req, res) => void missing(req, res));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/dashboard/`);
  expect(res.status).toBe(503);
  expect(await res.text()).toContain('npm run build:web');
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
});
