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
  /** Its JSON log lines (stderr). */
  logs: { level: string; message: string; [field: string]: unknown }[];
  stop(): Promise<number | null>;
}

async function start(): Promise<Service> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Service['logs'] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line));
    } catch {
      process.stderr.write(`${line}\n`);
    }
  });
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
    logs,
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

/** 3 + 6 (NSD-like), 2 + 6 (layers), 2 (in-context), 4 (causal). */
const IMPORTS = 19;
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
    // The NSD-like demo, the layer-sweep, in-context, causal and brain-space demos.
    expect(datasets.totalCount).toBe(5);
    const nsd = datasets.edges.find((e: any) => e.node.name === 'synthetic-nsd').node;
    expect(nsd.subjects.map((s: any) => s.name)).toEqual(['subj01', 'subj02', 'subj05']);
    expect(datasets.edges.some((e: any) => e.node.name === 'synthetic-layers')).toBe(true);
    // 3 response sets + 3 subjects x 2 backbones of features, then one encoding run per subject
    // and backbone; 2 response sets + one FEATURE_EXTRACTION of the demo CNN's 3 layers per
    // subject (and one of the demo images), then a layer sweep on the extracted features (3 child
    // encoding runs); the in-context subject's features and responses; the causal subject's features and
    // responses, the concept query's features and its measured pairs, then its ridge encoder; the
    // brain-space subject's response set and feature set, then its encoding run.
    const rows = await waitFor(first, (r) => imports(r).length === IMPORTS && imports(r).every((x) => x.status === 'SUCCEEDED') && encodings(r).length >= 10 && sweeps(r).length === 1 && extractions(r).length === 3 && r.some((x) => x.kind === 'ENCODING_ICL'), 180_000);
    expect(encodings(rows).length).toBeGreaterThanOrEqual(10);
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
    expect(datasets.totalCount).toBe(5);
    const rows = await waitFor(second, (r) => r.every((x) => x.status === 'SUCCEEDED') && r.some((x) => x.kind === 'CAUSAL_TEST'), 300_000);
    expect(imports(rows)).toHaveLength(IMPORTS);
    expect(encodings(rows)).toHaveLength(11);
    expect(sweeps(rows)).toHaveLength(1);
    expect(extractions(rows)).toHaveLength(3);
    for (const [kind, n] of [['ENCODING_ICL', 1], ['CAUSAL_TEST', 1], ['VQA_EVAL', 2]] as const) expect(rows.filter((r) => r.kind === kind)).toHaveLength(n);
    // The second start seeded nothing and said what it found instead of claiming to queue.
    const messages = second.logs.map((l) => l.message);
    expect(messages.filter((m) => /seeded/.test(m))).toEqual(['demo catalog already present: nothing seeded']);
    for (const what of ['demo encoding runs', 'demo layer sweep', 'demo in-context run', 'demo VQA evaluations', 'demo brain-space run', 'demo RSA run'])
      expect(messages).toContain(`${what}: nothing to queue, already queued by an earlier start`);
    expect(messages).not.toContain('demo encoding runs queued');
    // The demo sweep, run on the features FEATURE_EXTRACTION made, finds the layer each ROI's
    // responses were generated from (src/embedded/demo-layers.ts).
    const { runs: swept } = await query(second, '{ runs(first: 1, filter: { kind: LAYER_SWEEP }) { edges { node { layerProfile { bestLayers { roi layer } } } } } }');
    const best = Object.fromEntries(swept.edges[0].node.layerProfile.bestLayers.map((b: any) => [b.roi, b.layer]));
    expect(best).toMatchObject({ V1: 'stage1', V4: 'stage2', FFA: 'stage3' });
    // So does the demo RSA run (src/embedded/demo-rsa.ts), by Spearman's rho of the RDMs.
    const { runs: rsa } = await query(second, '{ runs(first: 5, filter: { kind: REPRESENTATIONAL_SIMILARITY }) { edges { node { representationalSimilarity { bestLayers { roi measure layer } } } } } }');
    expect(rsa.edges).toHaveLength(1);
    const rsaBest = Object.fromEntries(rsa.edges[0].node.representationalSimilarity.bestLayers.filter((b: any) => b.measure === 'spearman').map((b: any) => [b.roi, b.layer]));
    expect(rsaBest).toMatchObject({ V1: 'stage1', V4: 'stage2', FFA: 'stage3' });
    const { runs: scored } = await query(second, '{ runs(first: 20, filter: { kind: ENCODING_RIDGE }) { edges { node { parent { id } brainMapOutputs { name } scores(metric: "pearson_r.mean") { scope value ciLow ciHigh } } } } }');
    // The demos' own runs (the sweep's layer fits predict only part of their subject's voxels; most
    // of the brain-space subject's voxels lie outside its ROIs, at low SNR, and it alone has maps).
    const own = scored.edges.filter((e: any) => !e.node.parent && e.node.brainMapOutputs.length === 0);
    // clip and dino on each of the 3 subjects, and the causal demo's encoder.
    expect(own).toHaveLength(7);
    expect(scored.edges.filter((e: any) => e.node.brainMapOutputs.some((o: any) => o.name === 'pearsonR'))).toHaveLength(1);
    for (const e of own) expect(e.node.scores.find((x: any) => x.scope === 'all').value).toBeGreaterThan(0.3);
  } finally {
    expect(await second.stop()).toBe(0);
  }
}, 500_000);
