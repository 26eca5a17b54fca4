// The embedded default (`npm start`) as a user runs it: the real entry point in its own process,
// PostgreSQL from npm, artifacts in a data directory, jobs in-process, the demo catalog seeded
// once, Ctrl-C (SIGINT) stopping everything cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
  /** What it printed up to "ready". */
  banner: string[];
  stop(): Promise<number | null>;
}

async function start(): Promise<Service> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const banner: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      banner.push(line);
      if (line.includes('Stop:')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
  });
  return {
    child,
    banner,
    url: `http://127.0.0.1:${port}/graphql`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
      }),
  };
}

/** The operator token the embedded default keeps in its data directory. */
const operatorToken = () => readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();

async function query(service: Service, q: string) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${operatorToken()}` };
  const res = await fetch(service.url, { method: 'POST', headers, body: JSON.stringify({ query: q }) });
  const body: any = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

interface RunRow {
  kind: string;
  status: string;
}

async function runs(service: Service): Promise<RunRow[]> {
  const { runs } = await query(service, '{ runs(first: 100) { edges { node { kind status } } } }');
  return runs.edges.map((e: any) => e.node);
}

/** Polls until `done` holds for the run list; fails fast if a run failed. */
async function waitFor(service: Service, done: (rows: RunRow[]) => boolean, timeoutMs: number): Promise<RunRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await runs(service);
    if (rows.some((r) => r.status === 'FAILED')) throw new Error(`a demo run failed: ${JSON.stringify(rows)}`);
    if (done(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`demo runs not done in time: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const imports = (rows: RunRow[]) => rows.filter((r) => r.kind.startsWith('IMPORT_'));
const encodings = (rows: RunRow[]) => rows.filter((r) => r.kind === 'ENCODING_RIDGE');
const sweeps = (rows: RunRow[]) => rows.filter((r) => r.kind === 'LAYER_SWEEP');
const extractions = (rows: RunRow[]) => rows.filter((r) => r.kind === 'FEATURE_EXTRACTION');

it('seeds the demo catalog once, imports it in-process, queues encoding runs, and finishes them after a restart', async () => {
  const first = await start();
  try {
    // It makes an operator token, keeps it private, and prints how to use it.
    const token = operatorToken();
    expect(statSync(path.join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(first.banner.join('\n')).toContain(`authorization: Bearer ${token}`);
    expect(first.banner.join('\n')).toContain(`/dashboard/#token=${token}`);
    expect((await query(first, '{ me { operator } }')).me.operator).toBe(true);
    const { datasets } = await query(first, '{ datasets { totalCount edges { node { name subjects { name rois { name } } } } } }');
    // The NSD-like demo, the layer-sweep demo and the brain-space demo.
    expect(datasets.totalCount).toBe(3);
    const nsd = datasets.edges.find((e: any) => e.node.name === 'synthetic-nsd').node;
    expect(nsd.subjects.map((s: any) => s.name)).toEqual(['subj01', 'subj02', 'subj05']);
    expect(datasets.edges.some((e: any) => e.node.name === 'synthetic-layers')).toBe(true);
    // 3 response sets + 3 subjects x 2 backbones of features, then one encoding run per subject;
    // 2 response sets + one FEATURE_EXTRACTION of the demo CNN's 3 layers per subject, then a
    // layer sweep on the extracted features (3 child encoding runs); the demo images' extraction;
    // 1 response set + 1 feature set of the brain-space subject, then its encoding run.
    const rows = await waitFor(first, (r) => imports(r).length === 13 && imports(r).every((x) => x.status === 'SUCCEEDED') && extractions(r).length === 3 && encodings(r).length === 7 && sweeps(r).length === 1, 120_000);
    expect(encodings(rows)).toHaveLength(7);
    const { datasets: ready } = await query(first, '{ datasets { edges { node { subjects { responseSets { status noiseCeilingMedian } } } } } }');
    for (const d of ready.edges) for (const s of d.node.subjects) expect(s.responseSets[0]).toMatchObject({ status: 'READY' });
  } finally {
    // Ctrl-C while an encoding run may be computing: it is handed back and finished after restart.
    expect(await first.stop()).toBe(0);
  }
  const second = await start();
  try {
    // The same token across restarts.
    expect(second.banner.join('\n')).toContain(`authorization: Bearer ${operatorToken()}`);
    const { datasets } = await query(second, '{ datasets { totalCount } }');
    expect(datasets.totalCount).toBe(3);
    const rows = await waitFor(second, (r) => r.every((x) => x.status === 'SUCCEEDED'), 300_000);
    expect(imports(rows)).toHaveLength(13);
    expect(extractions(rows)).toHaveLength(3);
    expect(encodings(rows)).toHaveLength(7);
    expect(sweeps(rows)).toHaveLength(1);
    // The demo sweep, run on the features FEATURE_EXTRACTION made, finds the layer each ROI's
    // responses were generated from (src/embedded/demo-layers.ts).
    const { runs: swept } = await query(second, '{ runs(first: 1, filter: { kind: LAYER_SWEEP }) { edges { node { layerProfile { bestLayers { roi layer } } } } } }');
    const best = Object.fromEntries(swept.edges[0].node.layerProfile.bestLayers.map((b: any) => [b.roi, b.layer]));
    expect(best).toMatchObject({ V1: 'stage1', V4: 'stage2', FFA: 'stage3' });
    const { runs: scored } = await query(second, '{ runs(first: 10, filter: { kind: ENCODING_RIDGE }) { edges { node { parent { id } brainMapOutputs { name } scores(metric: "pearson_r.mean") { scope value ciLow ciHigh } } } } }');
    // The NSD-like demo's own runs (the sweep's layer fits predict only part of their subject's voxels;
    // most of the brain-space subject's voxels lie outside its ROIs, at low SNR, and it alone has maps).
    const own = scored.edges.filter((e: any) => !e.node.parent && e.node.brainMapOutputs.length === 0);
    expect(own).toHaveLength(3);
    expect(scored.edges.filter((e: any) => e.node.brainMapOutputs.some((o: any) => o.name === 'pearsonR'))).toHaveLength(1);
    for (const e of own) expect(e.node.scores.find((x: any) => x.scope === 'all').value).toBeGreaterThan(0.3);
  } finally {
    expect(await second.stop()).toBe(0);
  }
}, 500_000);
