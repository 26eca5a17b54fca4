// The embedded default (`npm start`) as a user runs it: the real entry point in its own process,
// PostgreSQL from npm, artifacts in a data directory, jobs in-process, the demo catalog seeded
// once, Ctrl-C (SIGINT) stopping everything cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { freePort } from '../helpers/ports';

const ROOT = path.resolve(__dirname, '../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ba-embedded-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Service {
  child: ChildProcess;
  url: string;
  stop(): Promise<number | null>;
}

async function start(): Promise<Service> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (line) => line.includes('GraphQL:') && resolve());
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
  });
  return {
    child,
    url: `http://127.0.0.1:${port}/graphql`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
      }),
  };
}

async function query(service: Service, q: string) {
  const res = await fetch(service.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  const body: any = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function waitForRuns(service: Service) {
  for (let i = 0; i < 300; i++) {
    const { runs } = await query(service, '{ runs(first: 100) { edges { node { status } } } }');
    if (runs.edges.every((e: any) => e.node.status === 'SUCCEEDED')) return runs.edges.length;
    if (runs.edges.some((e: any) => e.node.status === 'FAILED')) throw new Error('a seed run failed');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('seed runs did not finish');
}

it('seeds the demo catalog on first start, imports it in-process, and reuses the data without reseeding', async () => {
  const first = await start();
  let runs: number;
  try {
    const { datasets } = await query(first, '{ datasets { totalCount edges { node { name subjects { name rois { name } } } } } }');
    expect(datasets.totalCount).toBe(1);
    expect(datasets.edges[0].node.name).toBe('synthetic-nsd');
    expect(datasets.edges[0].node.subjects.map((s: any) => s.name)).toEqual(['subj01', 'subj02', 'subj05']);
    runs = await waitForRuns(first);
    expect(runs).toBe(9); // 3 response sets + 3 subjects x 2 backbones of features
    const { datasets: ready } = await query(first, '{ datasets { edges { node { subjects { responseSets { status noiseCeilingMedian } } } } } }');
    for (const s of ready.edges[0].node.subjects) expect(s.responseSets[0]).toMatchObject({ status: 'READY' });
  } finally {
    expect(await first.stop()).toBe(0);
  }
  const second = await start();
  try {
    const { datasets } = await query(second, '{ datasets { totalCount } }');
    expect(datasets.totalCount).toBe(1);
    expect(await waitForRuns(second)).toBe(runs);
  } finally {
    expect(await second.stop()).toBe(0);
  }
}, 120_000);
