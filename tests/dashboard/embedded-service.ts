// The embedded default (`npm start`) in a child process, as the dashboard's users meet it: a
// fresh data directory, the demo catalog seeded, and the operator token when the service has one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { freePort } from '../helpers/ports';

const ROOT = path.resolve(__dirname, '../..');

export interface EmbeddedService {
  origin: string;
  /** The dashboard address the service printed (with #token=... when it prints one). */
  dashboardUrl: string;
  token: string | undefined;
  query<T = any>(q: string, variables?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export async function startEmbedded(): Promise<EmbeddedService> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ba-dashboard-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const origin = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      lines.push(line);
      if (line.includes('Stop:')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the service exited with ${code}: ${lines.join('\n')}`)));
  });
  const printed = lines.map((l) => /(https?:\/\/\S+\/dashboard\/\S*)/.exec(l)?.[1]).find(Boolean);
  const tokenFile = path.join(dataDir, 'admin-token');
  const token = (printed && /#token=([^&\s]+)/.exec(printed)?.[1]) || (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  // The printed URL carries PUBLIC_URL (localhost:<port>); the browser uses the same origin as the tests.
  const dashboardUrl = printed ? printed.replace(/^https?:\/\/[^/]+/, origin) : `${origin}/dashboard/`;

  const query = async (q: string, variables?: Record<string, unknown>) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${origin}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: q, variables }) });
    const body: any = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const stop = async () => {
    if (child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { origin, dashboardUrl, token, query, stop };
}

/** Polls the run list until every run is SUCCEEDED and at least `want[kind]` runs of each kind exist. */
export async function waitForDemoRuns(service: EmbeddedService, want: Record<string, number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { runs } = await service.query('{ runs(first: 100) { edges { node { kind status error { message } } } } }');
    const rows: { kind: string; status: string }[] = runs.edges.map((e: any) => e.node);
    if (rows.some((r) => r.status === 'FAILED')) throw new Error(`a demo run failed: ${JSON.stringify(rows)}`);
    const enough = Object.entries(want).every(([kind, n]) => rows.filter((r) => r.kind === kind).length >= n);
    if (enough && rows.every((r) => r.status === 'SUCCEEDED')) return;
    if (Date.now() > deadline) throw new Error(`demo runs not done in time: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
