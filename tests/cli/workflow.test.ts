// The scripted path end to end: register from a manifest, submit runs, watch them, read results.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeNpy, encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { cliHarness, type CliHarness } from './run-cli';

let api: TestApi;
let cli: CliHarness;
let work: string;
const EXAMPLES = path.join(__dirname, '..', '..', 'examples', 'cli');

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  cli = await cliHarness(api);
  // The example manifests, with the arrays their generator writes beside them.
  work = path.join(cli.dir, 'study');
  mkdirSync(work);
  for (const f of ['catalog.yaml', 'runs.yaml']) copyFileSync(path.join(EXAMPLES, f), path.join(work, f));
  execFileSync(process.execPath, [path.join(EXAMPLES, 'make-arrays.mjs'), work]);
}, 60_000);
afterAll(async () => {
  await api.close();
  cli.remove();
});

describe('register', () => {
  it('creates the catalog of a manifest, waits for the imports, and a second run changes nothing', async () => {
    const first = await cli.run(['register', path.join(work, 'catalog.yaml'), '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.json.actions.map((a: any) => [a.kind, a.name, a.action, a.status ?? null])).toEqual([
      ['dataset', 'example-study', 'created', null],
      ['subject', 'example-study/subj01', 'created', null],
      ['stimulusSet', 'example-study/images', 'created', null],
      ['responseSet', 'example-study/subj01/betas', 'created', 'SUCCEEDED'],
      ['model', 'example-backbone', 'created', null],
      ['featureSet', 'example-backbone/example-study/images', 'created', 'SUCCEEDED'],
      ['benchmark', 'example-encoding', 'created', null],
    ]);
    const { stimulusSet } = await cli.gql(`query($id: ID!) { stimulusSet(id: $id) { nStimuli stimuli(first: 2) { edges { node { externalId concepts caption } } } } }`, {
      id: first.json.actions[2].id,
    });
    expect(stimulusSet.nStimuli).toBe(120);
    expect(stimulusSet.stimuli.edges.map((e: any) => e.node)).toEqual([
      { externalId: 'img-0', concepts: ['place', 'indoor'], caption: 'image 0' },
      { externalId: 'img-1', concepts: ['face'], caption: 'image 1' },
    ]);

    const runsBefore = (await cli.gql(`{ runs(first: 100) { totalCount } }`)).runs.totalCount;
    const second = await cli.run(['register', path.join(work, 'catalog.yaml')]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/0 created, 7 already there/);
    expect(second.stdout.match(/^exists /gm)).toHaveLength(7);
    expect((await cli.gql(`{ runs(first: 100) { totalCount } }`)).runs.totalCount).toBe(runsBefore);
  });

  it('names every problem of a malformed manifest with its place, exit code 2, nothing created', async () => {
    const file = path.join(work, 'bad.yaml');
    writeFileSync(file, 'datasets:\n  - name: broken\n    subjects:\n      - name: s1\n        nVoxels: -3\n    colour: red\n');
    const r = await cli.run(['register', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/datasets\.0\.subjects\.0\.nVoxels: /);
    expect(r.stderr).toMatch(/datasets\.0: Unrecognized key.*colour/);
    expect((await cli.gql(`{ datasets(filter: { nameContains: "broken" }) { totalCount } }`)).datasets.totalCount).toBe(0);
  });

  it('exits 6 when an import fails, and watch reports the reason with exit code 6', async () => {
    const file = path.join(work, 'nan.yaml');
    const values = Float32Array.from({ length: 120 * 12 }, (_, i) => (i === 30 ? NaN : i % 7));
    writeFileSync(path.join(work, 'nan-betas.npy'), encodeNpy({ dtype: '<f4', shape: [120, 12], data: values }));
    writeFileSync(
      file,
      'datasets:\n  - name: example-study\n    subjects: [{ name: subj02, nVoxels: 12 }]\n    responseSets: [{ subject: subj02, stimulusSet: images, file: nan-betas.npy }]\n',
    );
    const r = await cli.run(['register', file, '--json']);
    expect(r.code).toBe(6);
    const failed = r.json.actions.find((a: any) => a.kind === 'responseSet');
    expect(failed.status).toBe('FAILED');
    expect(r.stderr).toMatch(/FAILED: .*NaN and Inf are not allowed/);

    const w = await cli.run(['watch', failed.runId]);
    expect(w.code).toBe(6);
    expect(w.stdout).toMatch(new RegExp(`Run ${failed.runId} \\(IMPORT_RESPONSES\\) FAILED: \\w+: .*row 2.*NaN`));
  });
});

describe('submit, watch, results', () => {
  let runId: string;

  it('submits the runs of a manifest; submitting it again returns the same run', async () => {
    const first = await cli.run(['submit', path.join(work, 'runs.yaml'), '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.json.runs).toHaveLength(1);
    runId = first.json.runs[0].id;
    expect(first.json.runs[0]).toMatchObject({ kind: 'ENCODING_RIDGE', idempotencyKey: expect.stringMatching(/^manifest-[0-9a-f]{40}$/) });

    const again = await cli.run(['submit', path.join(work, 'runs.yaml'), '--json']);
    expect(again.json.runs[0].id).toBe(runId);
    expect(again.json.runs[0].idempotencyKey).toBe(first.json.runs[0].idempotencyKey);
  });

  it('watches the run to the end with exit code 0', async () => {
    const r = await cli.run(['watch', runId, '--interval', '0.1', '--json', '--progress']);
    expect(r.code).toBe(0);
    expect(r.json.run).toMatchObject({ id: runId, status: 'SUCCEEDED', progress: 1 });
    expect(r.stderr).toMatch(/run [0-9a-f]{8} \[#{28}\] 100%/);
  });

  it('prints the scores as CSV and JSON exactly as the API holds them, and downloads the output maps', async () => {
    const { run } = await cli.gql(`query($id: ID!) { run(id: $id) { scores { metric scope value ciLow ciHigh normalized n } } }`, { id: runId });
    const csv = await cli.run(['results', runId, '--format', 'csv']);
    expect(csv.code).toBe(0);
    const [header, ...lines] = csv.stdout.trim().split('\n');
    expect(header).toBe('run_id,metric,scope,value,ci_low,ci_high,normalized,n,extra');
    expect(lines).toHaveLength(run.scores.length);
    const parsed = lines.map((l) => l.split(','));
    for (const s of run.scores) {
      const row = parsed.find((p) => p[1] === s.metric && p[2] === s.scope)!;
      expect(row[0]).toBe(runId);
      expect(Number(row[3])).toBe(s.value);
      expect(row[4] === '' ? null : Number(row[4])).toBe(s.ciLow);
      expect(row[5] === '' ? null : Number(row[5])).toBe(s.ciHigh);
    }

    const out = path.join(cli.dir, 'maps');
    const json = await cli.run(['results', runId, '--format', 'json', '--metric', 'pearson_r.mean', '--output', out]);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body.scores.map((s: any) => s.scope).sort()).toEqual(['all', 'roi:FFA', 'roi:PPA']);
    const all = body.scores.find((s: any) => s.scope === 'all');
    // The planted map is linear in the features with little noise: the model recovers it.
    expect(all.value).toBeGreaterThan(0.9);
    // The per-voxel map it downloaded (sha256 checked) averages to the reported score.
    const r = decodeNpy(readFileSync(path.join(out, 'pearsonR.npy'))).data as Float32Array;
    expect(r).toHaveLength(12);
    expect(r.reduce((a, b) => a + b, 0) / r.length).toBeCloseTo(all.value, 5);
    expect(body.downloaded.map((d: any) => d.name)).toEqual(expect.arrayContaining(['pearsonR', 'explainedVariance', 'weights']));
  });

  it('submit --watch on a finished run returns it at once with its outcome', async () => {
    const r = await cli.run(['submit', path.join(work, 'runs.yaml'), '--watch']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`Run ${runId} (ENCODING_RIDGE) SUCCEEDED`);
  });

  it('lists runs, filtered by kind', async () => {
    const r = await cli.run(['runs', '--kind', 'encoding_ridge', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.runs.map((x: any) => x.id)).toEqual([runId]);
  });

  it('names runs by model, subject and dataset, newest first, and filters by them', async () => {
    const r = await cli.run(['runs', '--model', 'example-backbone', '--dataset', 'example-study', '--subject', 'subj01', '--status', 'succeeded', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.runs.map((x: any) => x.id)).toEqual([runId]);
    expect(r.json.runs[0]).toMatchObject({ model: { name: 'example-backbone' }, subject: { name: 'subj01' }, dataset: { name: 'example-study' } });
    expect(r.json.runs[0].title).toMatch(/^Ridge encoding · example-backbone.* → subj01 \(example-study\)/);
    const all = await cli.run(['runs', '--json']);
    const created = all.json.runs.map((x: any) => Date.parse(x.createdAt));
    expect(created).toEqual([...created].sort((a: number, b: number) => b - a));
    const table = await cli.run(['runs', '--model', 'example-backbone']);
    expect(table.stdout).toMatch(/MODEL\s+SUBJECT\s+DATASET/);
    expect(table.stdout).toMatch(/example-backbone.*subj01\s+example-study/);
    const noSuch = await cli.run(['runs', '--model', 'no-such-model']);
    expect(noSuch.code).toBe(3);
    const subjectAlone = await cli.run(['runs', '--subject', 'subj01']);
    expect(subjectAlone.code).toBe(2);
    expect(subjectAlone.stderr).toMatch(/give --dataset too/);
  });
});

describe('errors and exit codes', () => {
  it('maps refusals to exit codes with the server message', async () => {
    const missing = await cli.run(['watch', '00000000-0000-4000-8000-000000000000', '--json']);
    expect(missing.code).toBe(3);
    expect(missing.json.error.code).toBe('NOT_FOUND');

    const badToken = await cli.run(['runs'], { env: { BRAINALIGN_TOKEN: 'ba_0123456789ab_notarealsecretnotarealsecret0000' } });
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toMatch(/UNAUTHENTICATED/);

    const unknownKind = path.join(work, 'kind.yaml');
    writeFileSync(unknownKind, 'runs:\n  - kind: TELEPATHY\n    foo: 1\n');
    const kind = await cli.run(['submit', unknownKind]);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/does not accept runs of kind TELEPATHY/);

    const badRef = path.join(work, 'ref.yaml');
    writeFileSync(badRef, 'runs:\n  - kind: ENCODING_RIDGE\n    featureSet: { model: no-such-model, dataset: example-study, stimulusSet: images }\n    responseSetId: x\n');
    const ref = await cli.run(['submit', badRef]);
    expect(ref.code).toBe(3);
    expect(ref.stderr).toMatch(/No model named "no-such-model"/);

    const usage = await cli.run(['watch']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/missing required argument 'runId'/);
  });

  it('works as an installed command: bin/brainalign.mjs in its own process', async () => {
    const bin = path.join(__dirname, '..', '..', 'bin', 'brainalign.mjs');
    const child = spawn(process.execPath, [bin, 'runs', '--json', '--first', '5'], { env: { ...process.env, ...cli.env } });
    let stdout = '';
    child.stdout.on('data', (c) => (stdout += c));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    expect(code).toBe(0);
    expect(JSON.parse(stdout).runs.length).toBeGreaterThan(0);

    const failing = spawn(process.execPath, [bin, 'watch', '00000000-0000-4000-8000-000000000000'], { env: { ...process.env, ...cli.env } });
    expect(await new Promise<number>((resolve) => failing.on('close', (c) => resolve(c ?? -1)))).toBe(3);
  });
});
