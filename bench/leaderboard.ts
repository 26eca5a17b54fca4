// Leaderboard latency: seeds 10,000 scores on one benchmark, then drives the leaderboard query
// with 50 concurrent clients (autocannon) against the API in its own process, and times the same
// ranking done as one SQL query in the same script, so GraphQL's share shows as a ratio.
//
//   npm run bench -- leaderboard [--scores 10000] [--connections 50] [--seconds 10]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, migrate } from '../src/db/migrate';
import { freePort } from '../tests/helpers/ports';
import { startTs, stop, waitForLine } from './support/processes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<any>;

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export async function seed(url: string, nScores: number): Promise<string> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const lab = randomUUID();
    const dataset = randomUUID();
    const benchmark = randomUUID();
    await pg.query(`INSERT INTO "Lab"(id, name) VALUES ($1, 'bench-lab')`, [lab]);
    await pg.query(`INSERT INTO "Dataset"(id, "labId", name, visibility) VALUES ($1, $2, 'bench', 'PUBLIC')`, [dataset, lab]);
    await pg.query(`INSERT INTO "Benchmark"(id, name, kind, metric) VALUES ($1, 'bench-encoding', 'ENCODING', 'pearson_r.mean')`, [benchmark]);
    const subjects = Array.from({ length: 8 }, () => randomUUID());
    for (const [i, id] of subjects.entries())
      await pg.query(`INSERT INTO "Subject"(id, "datasetId", name, "nVoxels") VALUES ($1, $2, $3, 1000)`, [id, dataset, `subj0${i + 1}`]);
    const models = Array.from({ length: 50 }, () => randomUUID());
    for (const [i, id] of models.entries())
      await pg.query(`INSERT INTO "Model"(id, "labId", name, kind, family, visibility) VALUES ($1, $2, $3, 'BACKBONE', $4, 'PUBLIC')`, [id, lab, `model-${i}`, ['clip', 'dino', 'siglip'][i % 3]]);
    const provenance = JSON.stringify({ codeVersion: '0.1.0', inputs: { features: 'f'.repeat(64), responses: 'r'.repeat(64) }, engine: { provider: 'cpu' } });
    for (let start = 0; start < nScores; start += 1000) {
      const runs: unknown[] = [];
      const scores: unknown[] = [];
      for (let i = start; i < Math.min(nScores, start + 1000); i++) {
        const run = randomUUID();
        const value = 0.2 + 0.6 * ((i * 7919) % 10007) / 10007;
        runs.push([run, lab, benchmark, models[i % models.length], subjects[i % subjects.length]]);
        scores.push([randomUUID(), run, benchmark, value, value - 0.02, value + 0.02]);
      }
      await pg.query(
        `INSERT INTO "Run"(id, "labId", kind, status, params, "benchmarkId", "modelId", "subjectId", provenance, visibility)
         SELECT r[1]::uuid, r[2]::uuid, 'ENCODING_RIDGE', 'SUCCEEDED', '{}', r[3]::uuid, r[4]::uuid, r[5]::uuid, $2::jsonb, 'PUBLIC'
         FROM jsonb_array_elements($1::jsonb) AS e, LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(e)) AS r) x`,
        [JSON.stringify(runs), provenance],
      );
      await pg.query(
        `INSERT INTO "Score"(id, "runId", "benchmarkId", metric, scope, value, "ciLow", "ciHigh")
         SELECT (s->>0)::uuid, (s->>1)::uuid, (s->>2)::uuid, 'pearson_r.mean', 'all', (s->>3)::float8, (s->>4)::float8, (s->>5)::float8
         FROM jsonb_array_elements($1::jsonb) AS s`,
        [JSON.stringify(scores)],
      );
    }
    await pg.query('ANALYZE');
    return benchmark;
  } finally {
    await pg.end();
  }
}

async function freshLatencies(dbUrl: string, benchmark: string, apiUrl: string, headers: Record<string, string>, body: string, n: number) {
  const pg = new Client({ connectionString: dbUrl });
  await pg.connect();
  const times: number[] = [];
  try {
    const [{ id }] = (await pg.query(`SELECT id FROM "Score" WHERE "benchmarkId" = $1 LIMIT 1`, [benchmark])).rows;
    for (let i = 0; i < n; i++) {
      await pg.query(`UPDATE "Score" SET value = value + 1e-6 WHERE id = $1`, [id]);
      const t = performance.now();
      const res = await fetch(apiUrl, { method: 'POST', headers, body });
      await res.text();
      if (res.headers.get('x-cache')) throw new Error('a request after a write was answered from the cache');
      times.push(performance.now() - t);
    }
  } finally {
    await pg.end();
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => +times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(1);
  return { p50: at(0.5), p95: at(0.95) };
}

/** The same ranking as one SQL statement (plain rank() by value; the page of 20). */
async function sqlP95(url: string, benchmark: string, repeats: number): Promise<number> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const times: number[] = [];
  try {
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      await pg.query(
        `SELECT s.value, s."ciLow", s."ciHigh", rank() OVER (ORDER BY s.value DESC) AS rank, r.id, r.provenance
         FROM "Score" s JOIN "Run" r ON r.id = s."runId"
         WHERE s."benchmarkId" = $1 AND s.metric = 'pearson_r.mean' AND s.scope = 'all' AND r.status = 'SUCCEEDED'
           AND r.provenance ? 'codeVersion' AND r.provenance->'inputs' <> '{}'::jsonb
         ORDER BY s.value DESC, s."createdAt", s.id LIMIT 20`,
        [benchmark],
      );
      times.push(performance.now() - t);
    }
  } finally {
    await pg.end();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(0.95 * (times.length - 1))];
}

export async function main(args: string[]): Promise<void> {
  const nScores = arg(args, 'scores', 10_000);
  const connections = arg(args, 'connections', 50);
  const seconds = arg(args, 'seconds', 10);
  const server = 'postgresql://postgres@127.0.0.1:5432/postgres';
  const dbName = `ba_bench_lb_${Date.now().toString(36)}`;
  const url = server.replace(/postgres$/, dbName);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ba-bench-lb-'));
  await ensureDatabase(server, dbName);
  let api: ReturnType<typeof startTs> | undefined;
  try {
    await migrate(url);
    console.log(`seeding ${nScores} scores ...`);
    const benchmark = await seed(url, nScores);
    const port = await freePort();
    // One client drives all the load, so its rate limit is lifted; it reads as the operator.
    api = startTs('src/main.ts', {
      DATABASE_URL: url, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', SEED_DEMO: 'false', LOG_LEVEL: 'warn', REDIS_URL: undefined,
      RATE_LIMIT_PER_MINUTE: '1000000000',
    });
    await waitForLine(api, (l) => l.includes('GraphQL:'));
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()}` };
    const query = `query($b: ID!) { leaderboard(benchmarkId: $b, first: 20) { totalCount edges { node { rank tied value ciLow ciHigh provenance site model { name family } subject { name } run { id } } } } }`;
    const body = JSON.stringify({ query, variables: { b: benchmark } });
    const check = await (await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers, body })).json();
    if ((check as any).data?.leaderboard?.totalCount !== nScores) throw new Error(`unexpected leaderboard answer: ${JSON.stringify(check).slice(0, 300)}`);
    console.log(`driving ${connections} concurrent clients for ${seconds} s ...`);
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/graphql`,
      method: 'POST',
      headers,
      body,
      connections,
      duration: seconds,
    });
    const sqlMs = await sqlP95(url, benchmark, 200);
    // The same query right after each of 30 score changes: the cache cannot answer, so this is the
    // cost of re-ranking and executing GraphQL (what every request paid before caching).
    const fresh = await freshLatencies(url, benchmark, `http://127.0.0.1:${port}/graphql`, headers, body, 30);
    const p95 = result.latency.p97_5 !== undefined && result.latency.p95 === undefined ? result.latency.p97_5 : result.latency.p95 ?? result.latency.p97_5;
    console.log(
      JSON.stringify({
        bench: 'leaderboard',
        scores: nScores,
        connections,
        requests: result.requests.total,
        errors: result.errors + result.non2xx,
        p50_ms: result.latency.p50,
        p95_ms: p95,
        requests_per_second: Math.round(result.requests.average),
        sql_ms_p95: +sqlMs.toFixed(2),
        ratio_p95_vs_sql: +(p95 / sqlMs).toFixed(1),
        after_write_ms_p50: fresh.p50,
        after_write_ms_p95: fresh.p95,
      }),
    );
  } finally {
    if (api) await stop(api);
    await dropDatabase(server, dbName).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
