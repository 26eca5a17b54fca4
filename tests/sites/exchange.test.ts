// Two BrainAlign sites on loopback, each with its own database and artifact store, exchanging
// signed leaderboard bundles both ways: export, import, pull over HTTP, and every refusal.
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { ensureOperatorToken } from '../../src/auth/operator';
import { newTokenSecret } from '../../src/auth/tokens';
import { canonicalJson } from '../../src/sites/canonical-json';
import { rawPublicKey } from '../../src/sites/ed25519';
import { siteIdentity } from '../../src/sites/identity';
import { encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { freePort } from '../helpers/ports';
import { secondDatabase } from './second-database';

interface Site {
  api: TestApi;
  token: string;
  origin: string;
  /** As the operator. */
  gql(query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: any[] }>;
  ok(query: string, variables?: Record<string, unknown>): Promise<any>;
  /** Without a token. */
  anon(query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: any[] }>;
}

async function site(api: TestApi): Promise<Site> {
  const token = (await ensureOperatorToken(api.db, { token: newTokenSecret().token }))!;
  const post = (auth: boolean) => async (query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: any; errors?: any[] };
  };
  const gql = post(true);
  return {
    api,
    token,
    origin: `http://127.0.0.1:${new URL(api.url).port}`,
    gql,
    anon: post(false),
    ok: async (query, variables) => {
      const body = await gql(query, variables);
      if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors, null, 2)}`);
      return body.data;
    },
  };
}

const BENCHMARK = 'nsd-encoding-shared';
const provenance = (tag: string) => ({ inputs: { features: tag.repeat(64), responses: 'b'.repeat(64) }, codeVersion: '0.1.0', engine: { provider: 'cpu' } });

/** A public catalog with one benchmark, and a helper planting finished runs with their scores. */
async function catalog(s: Site) {
  const db = s.api.db;
  const labId = s.api.services.defaultLabId;
  const dataset = await db.dataset.create({ data: { labId, name: uniqueName('nsd'), visibility: 'PUBLIC' } });
  const subjects = await Promise.all(['subj01', 'subj02'].map((name) => db.subject.create({ data: { datasetId: dataset.id, name, nVoxels: 4 } })));
  const model = (name: string, family: string, visibility: 'PUBLIC' | 'PRIVATE' = 'PUBLIC') =>
    db.model.create({ data: { labId, name, family, kind: 'BACKBONE', visibility } });
  const benchmark = (name: string) => db.benchmark.create({ data: { name, kind: 'ENCODING', metric: 'pearson_r.mean' } });
  const run = async (
    bench: { id: string },
    m: { id: string },
    subject: number,
    scores: { scope: string; value: number; ci: [number, number] }[],
    extra: { visibility?: 'PUBLIC' | 'PRIVATE'; status?: 'SUCCEEDED' | 'FAILED'; provenance?: object; outputs?: object } = {},
  ) => {
    const r = await db.run.create({
      data: {
        labId,
        kind: 'ENCODING_RIDGE',
        status: extra.status ?? 'SUCCEEDED',
        params: {},
        benchmarkId: bench.id,
        modelId: m.id,
        subjectId: subjects[subject].id,
        visibility: extra.visibility ?? 'PUBLIC',
        provenance: extra.provenance ?? provenance('a'),
        outputs: extra.outputs ?? {},
        finishedAt: new Date(),
      },
    });
    await db.score.createMany({
      data: scores.map((x) => ({ runId: r.id, benchmarkId: bench.id, metric: 'pearson_r.mean', scope: x.scope, value: x.value, ciLow: x.ci[0], ciHigh: x.ci[1], normalized: x.value / 0.8, n: 100 })),
    });
    return r;
  };
  return { dataset, subjects, model, benchmark, run };
}

const IMPORT = `mutation($b: JSON!) { importSiteBundle(bundle: $b) { bundleId site imported skipped withdrawn alreadyImported unmatchedBenchmarks } }`;
const EXPORT = `mutation($i: ExportSiteBundleInput) { exportSiteBundle(input: $i) }`;
const TRUST = `mutation($n: String!, $k: String!, $u: String) { trustSite(input: { name: $n, publicKey: $k, url: $u }) { name url publicKey fingerprint } }`;
const PULL = `mutation($n: String!) { pullSiteBundle(name: $n) { bundleId site imported skipped withdrawn alreadyImported } }`;
const BOARD = `query($b: ID!, $roi: String, $f: LeaderboardFilter) { leaderboard(benchmarkId: $b, roi: $roi, filter: $f) { totalCount
  edges { node { rank tied value ciLow ciHigh normalized site provenance run { id } model { name }
    origin { site runId modelName modelFamily subjectName datasetName bundleId arrays { name sha256 size downloadUrl } } } } } }`;

let a: Site;
let b: Site;
let dropB: () => Promise<void>;
const ids: Record<string, string> = {};
let benchOnB: string;
let benchOnA: string;
let keyA: string;
let oldBundle: any;
let bundle: any;
const pearsonR = new Float32Array([0.1, 0.5, -0.2, 0.9]);

beforeAll(async () => {
  const second = await secondDatabase();
  dropB = second.drop;
  a = await site(await startTestApi({ env: { SITE_NAME: 'site-a' } }));
  b = await site(await startTestApi({ db: second.db, env: { SITE_NAME: 'site-b' } }));

  const ca = await catalog(a);
  const bench = await ca.benchmark(BENCHMARK);
  benchOnA = bench.id;
  const other = await ca.benchmark('a-only');
  const clip = await ca.model('clip-vit-b32', 'clip');
  const dino = await ca.model('dinov2-b', 'dino');
  const secret = await ca.model('unpublished-net', 'clip', 'PRIVATE');
  const npy = Buffer.from(encodeNpy({ dtype: '<f4', shape: [4], data: pearsonR }));
  const put = await a.api.services.store.putStream(npy);
  const artifact = await a.api.db.artifact.create({ data: { sha256: put.sha256, size: BigInt(put.size), dtype: '<f4', shape: [4], filename: 'pearsonR.npy' } });
  ids.clip = (await ca.run(bench, clip, 0, [
    { scope: 'all', value: 0.62, ci: [0.6, 0.64] },
    { scope: 'roi:FFA', value: 0.55, ci: [0.5, 0.6] },
  ], { outputs: { pearsonR: artifact.id } })).id;
  ids.dino = (await ca.run(bench, dino, 1, [{ scope: 'all', value: 0.41, ci: [0.39, 0.43] }])).id;
  ids.other = (await ca.run(other, clip, 0, [{ scope: 'all', value: 0.3, ci: [0.2, 0.4] }])).id;
  // Never exported: a private run, a run of a private model, a run without provenance, a failed run.
  ids.private = (await ca.run(bench, clip, 1, [{ scope: 'all', value: 0.9, ci: [0.88, 0.92] }], { visibility: 'PRIVATE' })).id;
  ids.secretModel = (await ca.run(bench, secret, 0, [{ scope: 'all', value: 0.8, ci: [0.79, 0.81] }])).id;
  ids.noProvenance = (await ca.run(bench, clip, 1, [{ scope: 'all', value: 0.7, ci: [0.69, 0.71] }], { provenance: {} })).id;
  ids.failed = (await ca.run(bench, dino, 0, [{ scope: 'all', value: 0.75, ci: [0.7, 0.8] }], { status: 'FAILED' })).id;
  // Nor a run whose only score is undefined (NaN: constant voxels), which JSON cannot carry.
  ids.undefinedScore = (await ca.run(bench, dino, 0, [{ scope: 'all', value: NaN, ci: [NaN, NaN] }])).id;

  const cb = await catalog(b);
  const benchB = await cb.benchmark(BENCHMARK);
  benchOnB = benchB.id;
  ids.local = (await cb.run(benchB, await cb.model('clip-b16', 'clip'), 0, [{ scope: 'all', value: 0.6, ci: [0.58, 0.62] }])).id;
}, 120_000);

afterAll(async () => {
  await a?.api.close();
  await b?.api.close();
  await dropB?.();
});

const codes = (body: { errors?: any[] }) => (body.errors ?? []).map((e) => e.extensions.code);
const importedOnB = () => b.api.db.importedScore.count();

describe('site identity', () => {
  it('gives each site an Ed25519 key kept in its store, the same for every later process', async () => {
    const { site: info } = await a.ok(`{ site { name url publicKey fingerprint } }`);
    expect(info).toMatchObject({ name: 'site-a' });
    expect(Buffer.from(info.publicKey, 'base64')).toHaveLength(32);
    keyA = info.publicKey;
    const row = await a.api.db.siteIdentity.findUniqueOrThrow({ where: { id: 'self' } });
    expect(row.publicKey).toBe(keyA);
    expect(await a.api.services.store.exists(row.keySha256)).toBe(true);
    // A fresh process over the same database and store (another replica, a restart) signs with the same key.
    expect((await siteIdentity({ ...a.api.services })).publicKey).toBe(keyA);
    const { site: other } = await b.ok(`{ site { name publicKey } }`);
    expect(other.name).toBe('site-b');
    expect(other.publicKey).not.toBe(keyA);
  });
});

describe('export', () => {
  it('signs only public, finished scores with provenance, verifiable with the public key alone', async () => {
    oldBundle = (await a.anon(EXPORT)).data.exportSiteBundle;
    bundle = (await a.ok(EXPORT)).exportSiteBundle;
    const { content } = bundle;
    expect(content).toMatchObject({ format: 'brainalign-site-bundle/1', site: { name: 'site-a', publicKey: keyA }, benchmarks: null });
    expect(content.runs.map((r: any) => r.id).sort()).toEqual([ids.clip, ids.dino, ids.other].sort());
    const clipRun = content.runs.find((r: any) => r.id === ids.clip);
    expect(clipRun).toMatchObject({
      benchmark: { name: BENCHMARK, kind: 'ENCODING', metric: 'pearson_r.mean', higherIsBetter: true },
      model: { name: 'clip-vit-b32', family: 'clip' },
      subject: { name: 'subj01' },
      provenance: provenance('a'),
      arrays: {},
    });
    expect(clipRun.scores.map((s: any) => [s.scope, s.value, s.ciLow, s.ciHigh, s.n])).toEqual([
      ['all', 0.62, 0.6, 0.64, 100],
      ['roi:FFA', 0.55, 0.5, 0.6, 100],
    ]);
    // Independent check with node:crypto: Ed25519 over the canonical bytes, id = their sha256.
    const bytes = Buffer.from(canonicalJson(content));
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(keyA, 'base64')]);
    expect(verify(null, bytes, createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(bundle.signature, 'base64'))).toBe(true);
    expect(bundle.bundleId).toBe(require('node:crypto').createHash('sha256').update(bytes).digest('hex'));
  });

  it('restricts to named benchmarks and refuses unknown ones', async () => {
    const only = (await a.ok(EXPORT, { i: { benchmarkIds: [benchOnA] } })).exportSiteBundle;
    expect(only.content.benchmarks).toEqual([BENCHMARK]);
    expect(only.content.runs.map((r: any) => r.id).sort()).toEqual([ids.clip, ids.dino].sort());
    const bad = await a.gql(EXPORT, { i: { benchmarkIds: ['00000000-0000-4000-8000-000000000000'] } });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.benchmarkIds.0' });
  });
});

describe('import', () => {
  it('refuses a bundle from a site that is not trusted, writing nothing', async () => {
    const res = await b.gql(IMPORT, { b: bundle });
    expect(codes(res)).toEqual(['UNTRUSTED_SITE']);
    expect(res.errors![0].message).toMatch(/site-a.*trustSite/);
    expect(await importedOnB()).toBe(0);
  });

  it('refuses a bundle whose key is not the one trusted for its site name', async () => {
    const impostor = rawPublicKey(generateKeyPairSync('ed25519').privateKey);
    await b.ok(TRUST, { n: 'site-a', k: impostor, u: a.origin });
    expect(codes(await b.gql(IMPORT, { b: bundle }))).toEqual(['SITE_KEY_MISMATCH']);
    // A bundle re-signed by another key under site-a's name and key claim fails the signature.
    const trusted = await b.ok(TRUST, { n: 'site-a', k: keyA, u: a.origin });
    expect(trusted.trustSite).toMatchObject({ name: 'site-a', url: a.origin, publicKey: keyA });
    expect(await importedOnB()).toBe(0);
  });

  it('refuses tampered, malformed and anonymous imports, writing nothing', async () => {
    // One changed byte in a score: 0.62 -> 0.63.
    const text = JSON.stringify(bundle);
    expect(text).toContain('"value":0.62');
    const tampered = JSON.parse(text.replace('"value":0.62', '"value":0.63'));
    const res = await b.gql(IMPORT, { b: tampered });
    expect(codes(res)).toEqual(['BUNDLE_SIGNATURE_INVALID']);
    expect(res.errors![0].message).toMatch(/altered after signing/);
    // Elsewhere too: a model name, an input hash in the provenance, a scope, the signing time.
    for (const [from, to] of [
      ['"name":"clip-vit-b32"', '"name":"clip-vit-b33"'],
      ['"features":"aaaa', '"features":"baaa'],
      ['"scope":"roi:FFA"', '"scope":"roi:PPA"'],
      [`"createdAt":"${bundle.content.createdAt}"`, `"createdAt":"${new Date(Date.parse(bundle.content.createdAt) + 1).toISOString()}"`],
    ]) {
      expect(text).toContain(from);
      expect(codes(await b.gql(IMPORT, { b: JSON.parse(text.replace(from, to)) }))).toEqual(['BUNDLE_SIGNATURE_INVALID']);
    }
    expect(codes(await b.gql(IMPORT, { b: { ...bundle, bundleId: 'f'.repeat(64) } }))).toEqual(['BUNDLE_MALFORMED']);
    expect(codes(await b.gql(IMPORT, { b: { ...bundle, signature: Buffer.alloc(64).toString('base64') } }))).toEqual(['BUNDLE_SIGNATURE_INVALID']);
    const malformed = await b.gql(IMPORT, { b: { content: { format: 'x' } } });
    expect(malformed.errors?.[0].extensions.code).toBe('BUNDLE_MALFORMED');
    expect(codes(await b.gql(IMPORT, { b: 'not json' }))).toEqual(['BUNDLE_MALFORMED']);
    expect(codes(await b.anon(IMPORT, { b: bundle }))).toEqual(['FORBIDDEN']);
    expect(await importedOnB()).toBe(0);
    expect(await b.api.db.siteBundleImport.count()).toBe(0);
  });

  it('imports matched benchmarks once; the same bundle again adds nothing and says so', async () => {
    const first = (await b.ok(IMPORT, { b: bundle })).importSiteBundle;
    expect(first).toEqual({
      bundleId: bundle.bundleId,
      site: 'site-a',
      imported: 3,
      skipped: 1,
      withdrawn: 0,
      alreadyImported: false,
      unmatchedBenchmarks: ['a-only (ENCODING)'],
    });
    // The bundle's text (as a script reads it from a file) is accepted too.
    const again = (await b.ok(IMPORT, { b: JSON.stringify(bundle) })).importSiteBundle;
    expect(again).toMatchObject({ bundleId: bundle.bundleId, imported: 0, skipped: 4, alreadyImported: true });
    expect(await importedOnB()).toBe(3);
  });

  it('refuses an older bundle of the same site as a replay', async () => {
    const res = await b.gql(IMPORT, { b: oldBundle });
    expect(codes(res)).toEqual(['BUNDLE_REPLAYED']);
    expect(await importedOnB()).toBe(3);
  });
});

describe('leaderboards with imported rows', () => {
  it('ranks imported rows beside local ones, each with its site', async () => {
    for (const client of [b.ok, async (q: string, v?: Record<string, unknown>) => (await b.anon(q, v)).data]) {
      const { leaderboard } = await client(BOARD, { b: benchOnB });
      const rows = leaderboard.edges.map((e: any) => e.node);
      // 0.62 [0.60, 0.64] and 0.60 [0.58, 0.62] overlap: rank 1, 1; 0.41 opens rank 3.
      expect(rows.map((r: any) => [r.site, r.value, r.rank, r.tied])).toEqual([
        ['site-a', 0.62, 1, true],
        ['site-b', 0.6, 1, true],
        ['site-a', 0.41, 3, false],
      ]);
      expect(rows[0]).toMatchObject({
        run: null,
        model: null,
        ciLow: 0.6,
        ciHigh: 0.64,
        provenance: provenance('a'),
        origin: { site: 'site-a', runId: ids.clip, modelName: 'clip-vit-b32', modelFamily: 'clip', subjectName: 'subj01', bundleId: bundle.bundleId, arrays: [] },
      });
      expect(rows[0].normalized).toBeCloseTo(0.62 / 0.8, 12);
      expect(rows[1]).toMatchObject({ run: { id: ids.local }, origin: null, model: { name: 'clip-b16' } });
    }
    const ffa = (await b.ok(BOARD, { b: benchOnB, roi: 'FFA' })).leaderboard;
    expect(ffa.edges.map((e: any) => [e.node.site, e.node.value])).toEqual([['site-a', 0.55]]);
    const dino = (await b.ok(BOARD, { b: benchOnB, f: { modelFamily: 'dino' } })).leaderboard;
    expect(dino.edges.map((e: any) => [e.node.site, e.node.origin.modelName])).toEqual([['site-a', 'dinov2-b']]);
  });
});

describe('pull over HTTP', () => {
  it('serves the signed bundle at /sites/bundle without a token', async () => {
    const res = await fetch(`${a.origin}/sites/bundle`);
    expect(res.status).toBe(200);
    const served: any = await res.json();
    expect(served.content.site.name).toBe('site-a');
    expect(served.content.runs).toHaveLength(3);
    expect((await fetch(`${a.origin}/sites/bundle`, { method: 'POST' })).status).toBe(405);
  });

  it('pulls both ways: B takes A’s new score, A takes B’s', async () => {
    const ca = await catalog(a);
    const model = await ca.model('siglip-so400m', 'siglip');
    ids.siglip = (await ca.run({ id: benchOnA }, model, 0, [{ scope: 'all', value: 0.5, ci: [0.45, 0.55] }])).id;
    const pulled = (await b.ok(PULL, { n: 'site-a' })).pullSiteBundle;
    expect(pulled).toMatchObject({ site: 'site-a', imported: 1, skipped: 4, withdrawn: 0, alreadyImported: false });
    const onB = (await b.ok(BOARD, { b: benchOnB })).leaderboard;
    expect(onB.edges.map((e: any) => [e.node.site, e.node.value])).toEqual([
      ['site-a', 0.62],
      ['site-b', 0.6],
      ['site-a', 0.5],
      ['site-a', 0.41],
    ]);

    // Site A's board is read (and cached) before the pull; the pull must show at once.
    const before = (await a.anon(BOARD, { b: benchOnA })).data.leaderboard.edges;
    expect(before.some((e: any) => e.node.site === 'site-b')).toBe(false);
    const { site: infoB } = await b.ok(`{ site { publicKey } }`);
    await a.ok(TRUST, { n: 'site-b', k: infoB.publicKey, u: `${b.origin}/graphql` });
    const back = (await a.ok(PULL, { n: 'site-b' })).pullSiteBundle;
    expect(back).toMatchObject({ site: 'site-b', imported: 1, skipped: 0 });
    // As anonymous visitors see it (the operator also sees site A's private runs).
    const onA = (await a.anon(BOARD, { b: benchOnA })).data.leaderboard.edges.map((e: any) => e.node);
    const fromB = onA.filter((r: any) => r.site === 'site-b');
    expect(fromB).toMatchObject([{ value: 0.6, run: null, origin: { site: 'site-b', runId: ids.local, modelName: 'clip-b16' } }]);
    // 0.60 [0.58, 0.62] overlaps A's 0.62 [0.60, 0.64]: it shares that row's rank.
    expect(fromB[0].rank).toBe(onA.find((r: any) => r.value === 0.62).rank);
    expect(onA.filter((r: any) => r.site === 'site-a').map((r: any) => r.value)).toEqual(expect.arrayContaining([0.62, 0.5, 0.41]));
    const { trustedSites } = await a.ok(`{ trustedSites { name importedScores lastBundleAt } }`);
    expect(trustedSites).toMatchObject([{ name: 'site-b', importedScores: 1 }]);
  });

  it('removes rows the origin withdrew (made private) on the next pull', async () => {
    await a.api.db.run.update({ where: { id: ids.dino }, data: { visibility: 'PRIVATE' } });
    const pulled = (await b.ok(PULL, { n: 'site-a' })).pullSiteBundle;
    expect(pulled).toMatchObject({ imported: 0, withdrawn: 1 });
    const onB = (await b.ok(BOARD, { b: benchOnB })).leaderboard;
    expect(onB.edges.map((e: any) => e.node.value)).toEqual([0.62, 0.6, 0.5]);
  });

  it('carries small result arrays when asked, downloadable at the importing site', async () => {
    const withArrays = (await a.ok(EXPORT, { i: { includeArrays: true } })).exportSiteBundle;
    const res = (await b.ok(IMPORT, { b: withArrays })).importSiteBundle;
    // The clip run's two scores now carry the array; nothing else changed.
    expect(res).toMatchObject({ imported: 2, withdrawn: 0 });
    const row = (await b.ok(BOARD, { b: benchOnB })).leaderboard.edges[0].node;
    expect(row.origin.arrays).toHaveLength(1);
    const [arr] = row.origin.arrays;
    expect(arr).toMatchObject({ name: 'pearsonR', size: String(128 + 16) });
    const bytes = Buffer.from(await (await fetch(arr.downloadUrl)).arrayBuffer());
    expect(new Float32Array(bytes.buffer, bytes.byteOffset + bytes.length - 16, 4)).toEqual(pearsonR);
  });

  it('reports an unreachable site with its URL', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await b.ok(TRUST, { n: 'site-c', k: rawPublicKey(generateKeyPairSync('ed25519').privateKey), u: closed });
    const res = await b.gql(PULL, { n: 'site-c' });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'SITE_UNREACHABLE', url: `${closed}/sites/bundle` });
    expect(res.errors?.[0].message).toMatch(/ECONNREFUSED/);
    expect(codes(await b.gql(PULL, { n: 'nowhere' }))).toEqual(['NOT_FOUND']);
  });
});

describe('trust management', () => {
  it('checks keys, names and URLs, and is operator-only', async () => {
    const bad = await b.gql(TRUST, { n: 'site-x', k: 'abc', u: null });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'publicKey' });
    const self = await b.gql(TRUST, { n: 'site-b', k: keyA, u: null });
    expect(self.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const url = await b.gql(TRUST, { n: 'site-x', k: keyA, u: 'ftp://x' });
    expect(url.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    expect(codes(await b.anon(TRUST, { n: 'site-x', k: keyA, u: null }))).toEqual(['FORBIDDEN']);
    expect(codes(await b.anon(`{ trustedSites { name } }`))).toEqual(['FORBIDDEN']);
  });

  it('untrusting a site removes its rows from the boards', async () => {
    expect((await b.ok(`mutation { untrustSite(name: "site-a") }`)).untrustSite).toBe(true);
    expect(await importedOnB()).toBe(0);
    const onB = (await b.ok(BOARD, { b: benchOnB })).leaderboard;
    expect(onB.edges.map((e: any) => [e.node.site, e.node.value])).toEqual([['site-b', 0.6]]);
    expect(codes(await b.gql(`mutation { untrustSite(name: "site-a") }`))).toEqual(['NOT_FOUND']);
  });
});
