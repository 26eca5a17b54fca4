// The dashboard served beside the real GraphQL schema executed over planted data, in headless
// Chromium: result pages are checked against known numbers, and every operation the page sends is
// recorded (`seen`) with its validation errors (`failures`), so a query the schema rejects fails.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildSchema, graphql } from 'graphql';
import { chromium, type Page } from 'playwright-core';
import { createDashboardHandler } from '../../src/server/dashboard';

const ROOT = path.resolve(__dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'test-artifacts/dashboard');

export interface PlantedDashboard {
  origin: string;
  page: Page;
  seen: string[];
  failures: string[];
  close(): Promise<void>;
}

/** Builds the dashboard, serves it with `rootValue` answering the schema, and opens one page. */
export async function startPlantedDashboard(rootValue: Record<string, unknown>, viewport = { width: 1400, height: 1000 }): Promise<PlantedDashboard> {
  mkdirSync(SHOTS, { recursive: true });
  execFileSync(process.execPath, ['scripts/build-dashboard.js'], { cwd: ROOT, stdio: 'inherit' });
  const dir = path.join(ROOT, 'src/schema');
  const files = readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort((a, b) => (a === 'common.graphql' ? -1 : b === 'common.graphql' ? 1 : a.localeCompare(b)));
  const schema = buildSchema(files.map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n'));
  const seen: string[] = [];
  const failures: string[] = [];
  const dashboard = createDashboardHandler();
  const server = http.createServer(async (req, res) => {
    if (await dashboard(req, res)) return;
    if (req.method !== 'POST' || req.url !== '/graphql') return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    seen.push(query);
    const result = await graphql({ schema, source: query, variableValues: variables, rootValue: { serviceInfo: () => ({ version: 'test', profile: 'test' }), ...rootValue } });
    if (result.errors) failures.push(...result.errors.map((e) => e.message));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    page,
    seen,
    failures,
    close: async () => {
      await browser.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * A describe block over one planted dashboard (skipped where Chromium is absent): `ui` is filled
 * in before the first test and closed after the last.
 */
export function plantedDashboardSuite(title: string, rootValue: Record<string, unknown>, body: (ui: PlantedDashboard) => void, viewport?: { width: number; height: number }): void {
  (existsSync(CHROMIUM) ? describe : describe.skip)(title, () => {
    const ui = {} as PlantedDashboard;
    beforeAll(async () => void Object.assign(ui, await startPlantedDashboard(rootValue, viewport)), 120_000);
    afterAll(() => ui.close?.());
    body(ui);
  });
}
