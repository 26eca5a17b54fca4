// The leaderboard response cache: repeated reads are served from memory, and a read never misses
// a change committed before it was sent, whichever connection wrote it.
import { startTestApi, type TestApi } from '../helpers/api';
import { createLab, addMember } from '../helpers/access';
import { uniqueName } from '../helpers/db';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const BOARD = `query($b: ID!) { leaderboard(benchmarkId: $b) { totalCount edges { node { rank value run { id } } } } }`;
const provenance = { inputs: { features: 'a'.repeat(64), responses: 'b'.repeat(64) }, codeVersion: '0.1.0' };

async function post(query: string, variables: Record<string, unknown>) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${api.operatorToken}` };
  const res = await fetch(api.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { cache: res.headers.get('x-cache'), body: (await res.json()) as { data?: any; errors?: any[] } };
}

async function board() {
  const db = api.db;
  const labId = api.services.defaultLabId;
  const { createBenchmark } = await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: ENCODING, metric: "pearson_r.mean" }) { id } }`, { n: uniqueName('cached') });
  const add = async (value: number) => {
    const run = await db.run.create({ data: { labId, kind: 'ENCODING_RIDGE', status: 'SUCCEEDED', params: {}, benchmarkId: createBenchmark.id, provenance } });
    await db.score.create({ data: { runId: run.id, benchmarkId: createBenchmark.id, metric: 'pearson_r.mean', scope: 'all', value, ciLow: value - 0.001, ciHigh: value + 0.001 } });
    return run;
  };
  return { id: createBenchmark.id as string, add, db };
}

describe('leaderboard response cache', () => {
  it('serves a repeated read from the cache with the same answer', async () => {
    const b = await board();
    await b.add(0.5);
    const first = await post(BOARD, { b: b.id });
    const second = await post(BOARD, { b: b.id });
    expect(first.cache).toBeNull();
    expect(second.cache).toBe('hit');
    expect(second.body).toEqual(first.body);
    expect(second.body.data.leaderboard.totalCount).toBe(1);
  });

  it('never answers with a board older than a committed write, even written on another connection', async () => {
    const b = await board();
    for (let i = 1; i <= 15; i++) {
      await post(BOARD, { b: b.id }); // warm the cache with the board as it is
      await b.add(i); // each new score is the best so far
      const { body } = await post(BOARD, { b: b.id });
      expect(body.data.leaderboard.totalCount).toBe(i);
      expect(body.data.leaderboard.edges[0].node.value).toBe(i);
    }
  });

  it('sees a run hidden after the board was cached', async () => {
    const b = await board();
    const run = await b.add(0.7);
    await post(BOARD, { b: b.id });
    await b.db.run.update({ where: { id: run.id }, data: { status: 'FAILED' } });
    const { body } = await post(BOARD, { b: b.id });
    expect(body.data.leaderboard.totalCount).toBe(0);
  });

  it('keeps different arguments apart and never caches mutations or other queries', async () => {
    const b1 = await board();
    const b2 = await board();
    await b1.add(0.1);
    await b2.add(0.2);
    await b2.add(0.3);
    await post(BOARD, { b: b1.id });
    expect((await post(BOARD, { b: b2.id })).body.data.leaderboard.totalCount).toBe(2);
    const runs = `query { runs(first: 1) { totalCount } }`;
    await post(runs, {});
    expect((await post(runs, {})).cache).toBeNull();
    const mutation = `mutation($n: String!) { createBenchmark(input: { name: $n, kind: ENCODING, metric: "m" }) { id } }`;
    const n = uniqueName('m');
    await post(mutation, { n });
    const again = await post(mutation, { n });
    expect(again.cache).toBeNull();
    expect(again.body.errors?.[0].extensions.code).toBe('CONFLICT');
  });

  it('does not cache errors', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const first = await post(BOARD, { b: missing });
    const second = await post(BOARD, { b: missing });
    expect(first.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect(second.cache).toBeNull();
  });
});

describe('token resolution cache', () => {
  const ME = `query { me { user { id } } }`;

  it('refuses a token at once when it is revoked, expired or its membership removed on another connection', async () => {
    const lab = await createLab(api, 'cache');
    const { createDataset } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name: uniqueName('private'), labId: lab } });
    const DATASET = `query($id: ID!) { dataset(id: $id) { id } }`;
    for (const change of ['revoke', 'expire', 'membership'] as const) {
      const member = await addMember(api, lab, 'VIEWER');
      const client = api.as({ token: member.token });
      for (let i = 0; i < 3; i++) expect((await client.gql(ME)).data?.me.user.id).toBe(member.userId);
      const prefix = member.token.split('_')[1];
      if (change === 'revoke') await api.db.apiToken.update({ where: { prefix }, data: { revokedAt: new Date() } });
      if (change === 'expire') await api.db.apiToken.update({ where: { prefix }, data: { expiresAt: new Date(Date.now() - 1000) } });
      if (change === 'membership') {
        expect((await client.gql(DATASET, { id: createDataset.id })).data?.dataset.id).toBe(createDataset.id);
        await api.db.labMembership.deleteMany({ where: { userId: member.userId } });
        const hidden = await client.gql(DATASET, { id: createDataset.id });
        expect(hidden.data?.dataset ?? null).toBeNull();
        continue;
      }
      const after = await client.gql(ME);
      expect(after.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });
});
