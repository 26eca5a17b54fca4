// `brainalign bundle export|import|pull` between two sites on loopback, each with its own database.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestApi, type TestApi } from '../helpers/api';
import { secondDatabase } from '../sites/second-database';
import { cliHarness, type CliHarness } from './run-cli';

let a: TestApi;
let b: TestApi;
let cliA: CliHarness;
let cliB: CliHarness;
let dropB: () => Promise<void>;
const BENCHMARK = 'shared-encoding';

/** One public, finished, provenanced run with two scores on site A's benchmark. */
async function plantScores(api: TestApi) {
  const db = api.db;
  const labId = api.services.defaultLabId;
  const dataset = await db.dataset.create({ data: { labId, name: 'nsd', visibility: 'PUBLIC' } });
  const subject = await db.subject.create({ data: { datasetId: dataset.id, name: 'subj01', nVoxels: 4 } });
  const model = await db.model.create({ data: { labId, name: 'clip-vit-b32', family: 'clip', kind: 'BACKBONE', visibility: 'PUBLIC' } });
  const benchmark = await db.benchmark.create({ data: { name: BENCHMARK, kind: 'ENCODING', metric: 'pearson_r.mean' } });
  const run = await db.run.create({
    data: {
      labId,
      kind: 'ENCODING_RIDGE',
      status: 'SUCCEEDED',
      params: {},
      benchmarkId: benchmark.id,
      modelId: model.id,
      subjectId: subject.id,
      visibility: 'PUBLIC',
      provenance: { inputs: { features: 'a'.repeat(64), responses: 'b'.repeat(64) }, codeVersion: '0.1.0' },
      outputs: {},
      finishedAt: new Date(),
    },
  });
  await db.score.createMany({
    data: [
      { runId: run.id, benchmarkId: benchmark.id, metric: 'pearson_r.mean', scope: 'all', value: 0.62, ciLow: 0.6, ciHigh: 0.64, n: 100 },
      { runId: run.id, benchmarkId: benchmark.id, metric: 'pearson_r.mean', scope: 'roi:FFA', value: 0.55, ciLow: 0.5, ciHigh: 0.6, n: 100 },
    ],
  });
}

beforeAll(async () => {
  const second = await secondDatabase();
  dropB = second.drop;
  a = await startTestApi({ env: { SITE_NAME: 'site-a' } });
  b = await startTestApi({ db: second.db, env: { SITE_NAME: 'site-b' } });
  cliA = await cliHarness(a);
  cliB = await cliHarness(b);
  await plantScores(a);
  await b.db.benchmark.create({ data: { name: BENCHMARK, kind: 'ENCODING', metric: 'pearson_r.mean' } });
  // B trusts A's key (compared out of band in real life) and knows where A serves its bundle.
  const { site } = await cliA.gql(`{ site { name publicKey } }`);
  await cliB.gql(`mutation($n: String!, $k: String!, $u: String) { trustSite(input: { name: $n, publicKey: $k, url: $u }) { name } }`, {
    n: site.name,
    k: site.publicKey,
    u: `http://127.0.0.1:${new URL(a.url).port}`,
  });
});
afterAll(async () => {
  await a.close();
  await b.close();
  await dropB();
  cliA.remove();
  cliB.remove();
});

describe('bundle', () => {
  let file: string;

  it('exports the signed bundle to a file and imports it on a site that trusts the signer, once', async () => {
    file = path.join(cliA.dir, 'site-a.json');
    const exported = await cliA.run(['bundle', 'export', '--benchmark', BENCHMARK, '--output', file, '--json']);
    expect(exported.code).toBe(0);
    expect(exported.json.file).toBe(file);

    const first = await cliB.run(['bundle', 'import', file, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ site: 'site-a', imported: 2, alreadyImported: false, unmatchedBenchmarks: [] });

    const again = await cliB.run(['bundle', 'import', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/from site-a was imported before; nothing changed/);
  });

  it('refuses a tampered bundle (exit 2) and a bundle from an untrusted site (exit 4) with the server\'s code', async () => {
    const tampered = path.join(cliA.dir, 'tampered.json');
    writeFileSync(tampered, readFileSync(file, 'utf8').replace(/"value": 0\.62/, '"value": 0.72'));
    const t = await cliB.run(['bundle', 'import', tampered, '--json']);
    expect(t.code).toBe(2);
    expect(t.json.error.code).toBe('BUNDLE_SIGNATURE_INVALID');

    const fromB = path.join(cliB.dir, 'site-b.json');
    expect((await cliB.run(['bundle', 'export', '--output', fromB])).code).toBe(0);
    const u = await cliA.run(['bundle', 'import', fromB]);
    expect(u.code).toBe(4);
    expect(u.stderr).toMatch(/UNTRUSTED_SITE: /);
  });

  it('pulls a trusted site\'s bundle over HTTP', async () => {
    const r = await cliB.run(['bundle', 'pull', 'site-a', '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ site: 'site-a', withdrawn: 0 });
    const unknown = await cliB.run(['bundle', 'pull', 'site-z']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/site-z/);
  });
});
