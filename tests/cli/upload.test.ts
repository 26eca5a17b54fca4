// `brainalign login` and `brainalign upload`: .npy (single and multipart, resumed), .npz, HDF5.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newTokenSecret } from '../../src/auth/tokens';
import { ApiClient } from '../../src/cli/client';
import { uploadFiles } from '../../src/cli/upload/resolve';
import { decodeNpy, encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { buildZip } from '../storage/zip-builder';
import { cliHarness, type CliHarness } from './run-cli';

let api: TestApi;
let cli: CliHarness;

beforeAll(async () => {
  // 1 MiB parts, so a few-MiB file goes the multipart way.
  api = await startTestApi({ env: { UPLOAD_PART_SIZE_MB: '1' } });
  cli = await cliHarness(api);
});
afterAll(async () => {
  await api.close();
  cli.remove();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function ramp(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * scale));
}

function writeNpy(name: string, shape: number[], data: Float32Array): { file: string; bytes: Buffer } {
  const bytes = Buffer.from(encodeNpy({ dtype: '<f4', shape, data }));
  const file = path.join(cli.dir, name);
  writeFileSync(file, bytes);
  return { file, bytes };
}

async function download(artifactId: string): Promise<Uint8Array> {
  const { artifact } = await cli.gql(`query($id: ID!) { artifact(id: $id) { downloadUrl } }`, { id: artifactId });
  return new Uint8Array(await (await fetch(artifact.downloadUrl)).arrayBuffer());
}

describe('login', () => {
  it('checks the service and saves url and token readable by the owner only', async () => {
    const r = await cli.run(['login', '--url', api.url.replace(/\/graphql$/, ''), '--token', cli.env.BRAINALIGN_TOKEN], { env: { BRAINALIGN_TOKEN: '' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = cli.env.BRAINALIGN_CONFIG;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(require('node:fs').readFileSync(file, 'utf8'))).toEqual({ url: api.url, token: cli.env.BRAINALIGN_TOKEN });
    expect(r.stdout).toMatch(/Logged in to .* as admin \(operator\)/);
    // Later commands find the service and the token in the saved file alone.
    const later = await cli.run(['runs', '--json'], { env: { BRAINALIGN_URL: '', BRAINALIGN_TOKEN: '' } });
    expect(later.code).toBe(0);
    expect(later.json).toMatchObject({ totalCount: 0, runs: [] });
  });

  it('refuses an unknown token with exit code 4 and the server\'s reason', async () => {
    const r = await cli.run(['login', '--token', newTokenSecret().token], { env: { BRAINALIGN_CONFIG: path.join(cli.dir, 'other.json') } });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/UNAUTHENTICATED: The API token ba_[0-9a-f]+_… is not recognised/);
    expect(() => statSync(path.join(cli.dir, 'other.json'))).toThrow();
  });

  it('refuses a service it cannot reach with exit code 5 and saves nothing new', async () => {
    const r = await cli.run(['login', '--url', 'http://127.0.0.1:9', '--token', 't', '--json'], { env: { BRAINALIGN_CONFIG: path.join(cli.dir, 'other.json') } });
    expect(r.code).toBe(5);
    expect(r.json.error).toMatchObject({ code: 'NETWORK', exitCode: 5 });
    expect(() => statSync(path.join(cli.dir, 'other.json'))).toThrow();
  });

  it('asks for a token with exit code 1', async () => {
    const r = await cli.run(['login'], { env: { BRAINALIGN_TOKEN: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--token/);
  });
});

describe('upload', () => {
  it('uploads a small .npy in one PUT and reports dtype and shape', async () => {
    const { file, bytes } = writeNpy('small.npy', [5, 3], ramp(15));
    const r = await cli.run(['upload', file, '--json']);
    expect(r.code).toBe(0);
    const [a] = r.json.artifacts;
    expect(a).toMatchObject({ dtype: '<f4', shape: [5, 3], sha256: sha(bytes), size: String(bytes.length), uploadedParts: 1, resumedParts: 0 });
    expect(Buffer.from(await download(a.id)).equals(bytes)).toBe(true);
  });

  it('uploads a larger .npy in parts, streamed, and the store holds exactly its bytes', async () => {
    const { file, bytes } = writeNpy('large.npy', [640, 1024], ramp(640 * 1024, 0.001)); // 2.5 MiB: 3 parts
    const r = await cli.run(['upload', file, '--json', '--progress']);
    expect(r.code).toBe(0);
    expect(r.json.artifacts[0]).toMatchObject({ shape: [640, 1024], sha256: sha(bytes), uploadedParts: 3, resumedParts: 0 });
    expect(r.stderr).toMatch(/upload \[#+\] 100% 2\.5 MiB\/2\.5 MiB .*\/s ETA/);
    expect(sha(await download(r.json.artifacts[0].id))).toBe(sha(bytes));
  });

  it('resumes an interrupted multipart upload, sending only the parts that are missing', async () => {
    const { file, bytes } = writeNpy('resumed.npy', [700, 1024], ramp(700 * 1024, 0.002));
    const client = new ApiClient({ url: api.url, ...(cli.env.BRAINALIGN_TOKEN ? { token: cli.env.BRAINALIGN_TOKEN } : {}) });
    const io = { stdout: process.stdout, stderr: process.stderr, env: cli.env, cwd: cli.dir };
    const interrupted = new Error('connection lost');
    await expect(
      uploadFiles([{ file }], io, client, false, {
        parallel: 1,
        afterPart: (n) => {
          if (n === 2) throw interrupted;
        },
      }),
    ).rejects.toBe(interrupted);
    expect(readdirSync(path.join(cli.dir, 'config', 'uploads')).filter((f) => f.endsWith('.json'))).toHaveLength(1);

    const r = await cli.run(['upload', file, '--json']);
    expect(r.code).toBe(0);
    expect(r.json.artifacts[0]).toMatchObject({ sha256: sha(bytes), resumedParts: 2, uploadedParts: 1 });
    expect(sha(await download(r.json.artifacts[0].id))).toBe(sha(bytes));
    // Done: the resume state is gone.
    expect(readdirSync(path.join(cli.dir, 'config', 'uploads')).filter((f) => f.endsWith('.json'))).toHaveLength(0);
  });

  it('uploads each member of an .npz as its own .npy artifact, or the one named by --member', async () => {
    const betas = encodeNpy({ dtype: '<f4', shape: [2, 3], data: ramp(6) });
    const mask = encodeNpy({ dtype: '<f4', shape: [4], data: ramp(4, 2) });
    const file = path.join(cli.dir, 'study.npz');
    writeFileSync(file, buildZip([{ name: 'betas.npy', data: betas, method: 'deflated' }, { name: 'mask.npy', data: mask }]));

    const all = await cli.run(['upload', file, '--json']);
    expect(all.code).toBe(0);
    expect(all.json.artifacts.map((a: any) => [a.member, a.filename, a.shape, a.sha256])).toEqual([
      ['betas', 'study.betas.npy', [2, 3], sha(betas)],
      ['mask', 'study.mask.npy', [4], sha(mask)],
    ]);

    const one = await cli.run(['upload', file, '--member', 'mask', '--json']);
    expect(one.json.artifacts).toHaveLength(1);
    expect(one.json.artifacts[0].sha256).toBe(sha(mask));

    const wrong = await cli.run(['upload', file, '--member', 'nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/no member "nope"; members: betas, mask/);
  });

  it('converts an HDF5 dataset to .npy in row blocks and uploads it with its dtype and shape', async () => {
    const file = path.join(cli.dir, 'scan.h5');
    // Written with h5wasm itself, in a process of its own (an ES module).
    execFileSync(process.execPath, ['--input-type=module', '-e', `
      import h5wasm from 'h5wasm/node';
      await h5wasm.ready;
      const f = new h5wasm.File(${JSON.stringify(file)}, 'w');
      f.create_group('betas');
      f.get('betas').create_dataset({ name: 'subj01', data: Float32Array.from({ length: 12 }, (_, i) => i / 4), shape: [3, 4], dtype: '<f' });
      f.create_dataset({ name: 'counts', data: new Int16Array([1, -2, 3]), shape: [3], dtype: '<h' });
      f.close();`], { cwd: process.cwd() });

    const r = await cli.run(['upload', file, '--dataset', '/betas/subj01', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.artifacts[0]).toMatchObject({ filename: 'scan.betas_subj01.npy', dtype: '<f4', shape: [3, 4], dataset: '/betas/subj01' });
    const arr = decodeNpy(await download(r.json.artifacts[0].id));
    expect(Array.from(arr.data as Float32Array)).toEqual(Array.from({ length: 12 }, (_, i) => i / 4));

    const ints = await cli.run(['upload', file, '--dataset', 'counts', '--json']);
    expect(ints.json.artifacts[0]).toMatchObject({ dtype: '<i2', shape: [3] });
    expect(Array.from(decodeNpy(await download(ints.json.artifacts[0].id)).data as Int16Array)).toEqual([1, -2, 3]);

    // The converted copy is removed once the artifact is stored.
    expect(readdirSync(path.join(cli.dir, 'config', 'uploads', 'converted'))).toEqual([]);

    const none = await cli.run(['upload', file]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Choose a dataset with --dataset; .* holds: \/betas\/subj01, \/counts|holds: \/counts, \/betas\/subj01/);
  });

  it('refuses a broken .npy before sending anything, and a missing file, with exit code 2', async () => {
    const bad = path.join(cli.dir, 'broken.npy');
    writeFileSync(bad, Buffer.from('not an array at all'));
    const before = await api.db.artifactUpload.count();
    const r = await cli.run(['upload', bad, '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/broken\.npy is not a valid \.npy file/);
    expect(await api.db.artifactUpload.count()).toBe(before);

    const missing = await cli.run(['upload', path.join(cli.dir, 'nowhere.npy')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nowhere\.npy: no such file/);
  });
});
