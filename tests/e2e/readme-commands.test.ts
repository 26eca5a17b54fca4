// The README's shell commands, run as written against the embedded profile (`npm start`).
// Convention (README, "Development"): every ```sh block is run, in order, in one bash session
// (set -euo pipefail), unless its first line is `# not run in tests: <reason>`. A block with the
// line `# needs the demo runs finished` runs once every demo run has ended SUCCEEDED. The service
// runs on a free port with a fresh data directory: the commands run in a directory linking the
// clone's files, with that data directory as `.data`, `localhost:4000` replaced by the service's
// address; `brainalign` is `node bin/brainalign.mjs`, and BRAINALIGN_URL / BRAINALIGN_TOKEN name
// this instance.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { freePort } from '../helpers/ports';

const ROOT = path.resolve(__dirname, '../..');
const SKIP = /^#\s*not run in tests:\s*\S/;
const NEEDS_DEMO = /^#\s*needs the demo runs finished\b(?::\s*([A-Z_, ]+))?/m;

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
  skipped: boolean;
  needsDemo: boolean;
  /** The run kinds it needs finished (`# needs the demo runs finished: ENCODING_RIDGE`); empty: all. */
  demoKinds: string[];
}

/** The ```sh blocks of a Markdown text (indented fences too; other languages are not shell). */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(\S*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let j = i + 1;
    while (j < lines.length && !(lines[j].startsWith(indent + fence[0].repeat(fence.length)) && lines[j].trim() === fence[0].repeat(lines[j].trim().length))) j++;
    if (lang === 'sh' || lang === 'bash') {
      const text = lines
        .slice(i + 1, j)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
      const needs = NEEDS_DEMO.exec(text);
      const demoKinds = (needs?.[1] ?? '').split(',').map((k) => k.trim()).filter(Boolean);
      blocks.push({ line: i + 1, text, skipped: SKIP.test(first.trim()), needsDemo: needs !== null, demoKinds });
    }
    i = j;
  }
  return blocks;
}

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const blocks = shellBlocks(readme);
const haveTools = ['curl', 'jq', 'bash'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

describe('README shell blocks', () => {
  it('are found, and every block that is not run says why', () => {
    expect(blocks.filter((b) => !b.skipped).length).toBeGreaterThan(2);
    // A placeholder cannot run: ids come from an earlier command.
    const placeholders = blocks.filter((b) => !b.skipped && /…|<[a-zA-Z]+>/.test(b.text)).map((b) => `line ${b.line}`);
    expect(placeholders).toEqual([]);
  });
});

(haveTools ? describe : describe.skip)('README commands against npm start', () => {
  if (!haveTools) console.warn('README commands not run: curl, jq and bash are needed');
  const work = mkdtempSync(path.join(os.tmpdir(), 'ba-readme-'));
  // Its own temp directory, like tests/e2e/embedded-profile.test.ts: PostgreSQL (run as its own user
  // when the tests run as root) must reach it.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ba-readme-data-'));
  let child: ChildProcess | undefined;
  let port = 0;
  let startedAt = 0;
  let readyAt = 0;

  beforeAll(async () => {
    port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    startedAt = Date.now();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: child!.stdout! }).on('line', (line) => line.includes('Stop:') && ((readyAt = Date.now()), resolve()));
      child!.once('exit', (code) => reject(new Error(`the embedded profile exited with ${code}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) await new Promise((r) => (child!.once('exit', r), child!.kill('SIGINT')));
    rmSync(work, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const token = () => readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();

  async function gqlAsOperator(query: string): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as any;
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  /** Runs blocks in one bash session; resolves with the output, or rejects naming the failing block. */
  function runScript(script: string, env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
      const sh = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      sh.stdout.on('data', (d) => (out += d));
      sh.stderr.on('data', (d) => (out += d));
      sh.once('exit', (code) => resolve({ code: code ?? -1, out }));
    });
  }

  it('runs every ```sh block in order, as written', async () => {
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'brainalign'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin/brainalign.mjs')}" "$@"\n`);
    chmodSync(path.join(bin, 'brainalign'), 0o755);
    // The clone as a user has it, with this instance's data directory as .data; what the
    // commands write (maps/, bundle.json) stays out of the real clone.
    const clone = path.join(work, 'clone');
    mkdirSync(clone);
    for (const entry of readdirSync(ROOT)) if (entry !== '.data' && entry !== '.git') symlinkSync(path.join(ROOT, entry), path.join(clone, entry));
    symlinkSync(dataDir, path.join(clone, '.data'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      BRAINALIGN_URL: `http://127.0.0.1:${port}`,
      BRAINALIGN_TOKEN: token(),
      BRAINALIGN_CONFIG: path.join(work, 'cli-config.json'),
      HOME: work,
    };
    const substitute = (text: string) => text.replaceAll('localhost:4000', `127.0.0.1:${port}`);

    // One bash session for all blocks; before the first block that needs the demo runs it waits
    // until every run has ended (a failed or cancelled one fails the test) and notes when.
    const waitDemo = [
      '__readme_wait_demo() {  # [KIND ...]: those kinds only',
      `  local q='{"query":"{ runs(first: 100) { edges { node { kind status } } } }"}' s kinds`,
      '  kinds=$(printf \'%s\\n\' "$@" | jq -R . | jq -sc \'map(select(. != ""))\')',
      '  while :; do',
      `    s=$(curl -s http://127.0.0.1:${port}/graphql -H "authorization: Bearer $BRAINALIGN_TOKEN" -H 'content-type: application/json' -d "$q" | jq -r --argjson k "$kinds" '[.data.runs.edges[].node | select(($k | length) == 0 or (.kind | IN($k[]))) | .status] | if any(. == "FAILED" or . == "CANCELLED") then "failed" elif length > 0 and all(. == "SUCCEEDED") then "done" else "open" end')`,
      '    [ "$s" = done ] && { echo "::demo-finished $(date +%s%3N)::"; return 0; }',
      '    [ "$s" = failed ] && { echo "a demo run did not succeed" >&2; return 1; }',
      '    sleep 0.25',
      '  done',
      '}',
    ].join('\n');
    let script = `set -euo pipefail\n${waitDemo}\n`;
    let waited: 'none' | 'some' | '' = 'none';
    for (const b of blocks.filter((x) => !x.skipped)) {
      // Waits again when a later block needs more kinds than an earlier one waited for.
      if (b.needsDemo && waited !== '') (script += `__readme_wait_demo ${b.demoKinds.join(' ')}\n`), (waited = b.demoKinds.length ? 'some' : '');
      script += `echo "::block ${b.line} $(date +%s%3N)::" >&2\n${substitute(b.text)}\n`;
    }
    const { code, out } = await runScript(script, env, clone);
    const marks = [...out.matchAll(/::block (\d+) (\d+)::/g)].map((m) => ({ line: Number(m[1]), at: Number(m[2]) }));
    const failed = marks.at(-1)?.line;
    if (code !== 0) throw new Error(`README block at line ${failed} failed (exit ${code}):\n${blocks.find((b) => b.line === failed)?.text}\n--- output ---\n${out.slice(-4000)}`);
    const finished = /::demo-finished (\d+)::/.exec(out);
    const end = Date.now();
    console.log(
      `service ready ${((readyAt - startedAt) / 1000).toFixed(1)} s after start; seconds per README block: ` +
        marks.map((m, i) => `line ${m.line}: ${(((marks[i + 1]?.at ?? end) - m.at) / 1000).toFixed(1)}`).join(', '),
    );
    if (finished) console.log(`demo runs all SUCCEEDED ${((Number(finished[1]) - startedAt) / 1000).toFixed(1)} s after the service was started`);
    // When the demo's own runs (those queued before the wait ended) ended, from their rows.
    const demo = await gqlAsOperator(`{ runs(first: 100) { edges { node { kind createdAt finishedAt parent { id } } } } }`);
    const demoDone = finished ? Number(finished[1]) : (marks[0]?.at ?? Date.now());
    const rows = demo.runs.edges.map((e: any) => e.node).filter((r: any) => Date.parse(r.createdAt) <= demoDone && r.finishedAt);
    const lastOf = (pick: (r: any) => boolean) => Math.max(...rows.filter(pick).map((r: any) => Date.parse(r.finishedAt)));
    const after = (t: number) => `${((t - readyAt) / 1000).toFixed(1)} s`;
    console.log(
      `after "ready": demo ENCODING_RIDGE runs (no parent) done ${after(lastOf((r) => r.kind === 'ENCODING_RIDGE' && !r.parent))}, ` +
        `every demo run done ${after(lastOf(() => true))}; ` +
        [...new Set(rows.map((r: any) => r.kind))].map((k) => `${k} ${after(lastOf((r) => r.kind === k))}`).join(', '),
    );
    // The example script registers its dataset once: a second run reports it as existing.
    const again = await runScript('node examples/register-and-import.mjs', env, clone);
    expect(again).toMatchObject({ code: 0 });
    expect(again.out).toMatch(/dataset example-register-and-import exists/);
    const data = await gqlAsOperator('{ datasets(filter: { nameContains: "example-register-and-import" }) { totalCount edges { node { subjects { responseSets { status } } } } } }');
    expect(data.datasets.totalCount).toBe(1);
    expect(data.datasets.edges[0].node.subjects[0].responseSets).toEqual([{ status: 'READY' }]);
    // Nothing a README command printed is a GraphQL error.
    expect(out).not.toMatch(/"errors"\s*:/);
  }, 300_000);
});
