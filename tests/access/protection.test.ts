// Public-endpoint protection: query cost, request rate per token (per address when anonymous),
// request size. Each refusal is a GraphQL error naming the limit it hit, and is logged.
import { buildSchema, Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { issueToken } from '../../src/auth/api-tokens';
import { loadTypeDefs } from '../../src/resolvers';
import { queryCost } from '../../src/server/query-cost';
import { ensureOperatorUser } from '../../src/auth/operator';
import { MemoryRateLimiter, RedisRateLimiter } from '../../src/server/rate-limit';
import { startTestApi, type TestApi } from '../helpers/api';

// The cost of this query, by the rule in src/server/query-cost.ts, written out:
//   rois      = 1 + 10 (an unpaginated list) x (name 1 + voxelIndices 1)  = 21
//   subjects  = 1 + 10 x rois                                          = 211
//   node      = 1 + subjects = 212;  edges = 1 + first x node
//   datasets  = 100 (a root field is a query) + edges
const NESTED = (first: string) => `{ datasets(first: ${first}) { edges { node { subjects { rois { name voxelIndices } } } } } }`;
const cost = (first: number) => 101 + first * 212;

describe('query cost estimate', () => {
  const schema = buildSchema(loadTypeDefs());
  const costOf = (query: string) => {
    const doc = parse(query);
    const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
    const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
    return queryCost(schema, op, fragments, 1e9);
  };

  it('counts fragments and inline fragments like the fields they stand for', () => {
    expect(costOf(NESTED('7'))).toBe(cost(7));
    const viaFragments = `{ datasets(first: 7) { ...Page } }
      fragment Page on DatasetConnection { edges { node { ... on Dataset { subjects { rois { name voxelIndices } } } } } }`;
    expect(costOf(viaFragments)).toBe(cost(7));
  });

  it("uses the schema's default page size when first is omitted", () => {
    // leaderboard(first: Int = 20): 100 + edges 1 + 20 x (node 1 + value 1)
    expect(costOf('{ leaderboard(benchmarkId: "x") { edges { node { value } } } }')).toBe(101 + 20 * 2);
  });

  it('counts every aliased root field and every totalCount as a query of its own', () => {
    expect(costOf('{ runs(first: 0) { totalCount } }')).toBe(200);
    expect(costOf('{ a: runs(first: 0) { totalCount } b: runs(first: 0) { totalCount } }')).toBe(400);
    // A nested connection's count is a query per parent row.
    expect(costOf('{ datasets(first: 3) { edges { node { id } } totalCount } }')).toBe(100 + 1 + 3 * (1 + 1) + 100);
    expect(costOf('{ __typename }')).toBe(1);
  });
});

describe('query cost at the default limits', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  it('refuses 990 aliases of runs(first: 0) { totalCount } before running any of them', async () => {
    const aliases = Array.from({ length: 990 }, (_, i) => `r${i}: runs(first: 0) { totalCount }`).join(' ');
    const res = await api.gql(`{ ${aliases} }`);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxCost', max: 100_000 });
    // The estimate stops adding once past the limit ("at least").
    expect(res.errors?.[0].extensions.cost).toBeGreaterThan(100_000);
    expect(res.errors?.[0].message).toMatch(/alias/);
    expect(res.data).toBeUndefined();
    // A handful of counts is an ordinary dashboard request.
    const few = Array.from({ length: 5 }, (_, i) => `r${i}: runs(first: 0) { totalCount }`).join(' ');
    expect((await api.gql(`{ ${few} }`)).errors).toBeUndefined();
  });
});

describe('query cost', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { QUERY_MAX_COST: String(cost(50)) } });
  });
  afterAll(() => api?.close());

  it('runs a query at the limit and refuses one above it, naming the limit and the estimate', async () => {
    expect((await api.gql(NESTED('50'))).errors).toBeUndefined();
    const over = await api.gql(NESTED('51'));
    expect(over.errors?.[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'maxCost', max: cost(50), cost: cost(51) });
    expect(over.errors?.[0].message).toMatch(/smaller pages/);
    expect(over.data).toBeUndefined();
    expect(api.logs.some((l) => l.message === 'request refused' && l.fields.code === 'QUERY_TOO_COMPLEX' && l.fields.limit === 'maxCost')).toBe(true);
  });

  it('counts `first: $variable` at its default, or at the largest page without one', async () => {
    const withDefault = `query($n: Int = 50) ${NESTED('$n')}`;
    expect((await api.gql(withDefault)).errors).toBeUndefined();
    const noDefault = await api.gql(`query($n: Int) ${NESTED('$n')}`, { n: 1 });
    expect(noDefault.errors?.[0].extensions).toMatchObject({ limit: 'maxCost', cost: cost(100) });
  });

  it('still refuses depth and width first', async () => {
    let deep = 'id';
    for (let i = 0; i < 7; i++) deep = `subjects { dataset { ${deep} } }`;
    const tooDeep = await api.gql(`{ datasets { edges { node { ${deep} } } } }`);
    expect(tooDeep.errors?.map((e) => e.extensions.limit)).toEqual(['maxDepth']);
  });
});

describe('request rate', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2' } });
  });
  afterAll(() => api?.close());

  const ask = (c: ReturnType<TestApi['as']>) => c.post(JSON.stringify({ query: '{ me { anonymous } }' }));

  it('allows a burst of the per-minute allowance per token, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const user = await ensureOperatorUser(api.db);
    const mine = api.as({ token: (await issueToken(api.db, user.id, { name: 'rate-a', expiresAt: null })).secret });
    const other = api.as({ token: (await issueToken(api.db, user.id, { name: 'rate-b', expiresAt: null })).secret });
    for (let i = 0; i < 3; i++) expect((await ask(mine)).status).toBe(200);
    const res = await ask(mine);
    expect(res.status).toBe(429);
    const body: any = await res.json();
    const ext = body.errors[0].extensions;
    expect(ext).toMatchObject({ code: 'RATE_LIMITED', limit: 3, windowSeconds: 60, scope: 'token' });
    // One request per 20 s refills; the wait is at most that.
    expect(ext.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(ext.retryAfterSeconds).toBeLessThanOrEqual(20);
    expect(res.headers.get('retry-after')).toBe(String(ext.retryAfterSeconds));
    expect(body.errors[0].message).toContain('3 requests per minute');
    // Another token has its own allowance.
    expect((await ask(other)).status).toBe(200);
    expect(api.logs.some((l) => l.message === 'request refused' && l.fields.code === 'RATE_LIMITED' && l.fields.limit === 3)).toBe(true);
  });

  it('limits anonymous clients per address', async () => {
    const anon = api.as('anonymous');
    for (let i = 0; i < 2; i++) expect((await ask(anon)).status).toBe(200);
    const res = await ask(anon);
    expect(res.status).toBe(429);
    expect(((await res.json()) as any).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 2, scope: 'ip' });
    // X-Forwarded-For is ignored unless TRUST_PROXY is set: a client cannot pick a fresh address.
    const spoofed = await anon.post(JSON.stringify({ query: '{ me { anonymous } }' }), { 'x-forwarded-for': '203.0.113.9' });
    expect(spoofed.status).toBe(429);
  });
});

describe('request rate behind a trusted proxy', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1', TRUST_PROXY: 'true' } });
  });
  afterAll(() => api?.close());

  it('counts anonymous clients by their forwarded address', async () => {
    const from = (ip: string) => api.as('anonymous').post(JSON.stringify({ query: '{ me { anonymous } }' }), { 'x-forwarded-for': `${ip}, 10.0.0.1` });
    expect((await from('198.51.100.1')).status).toBe(200);
    expect((await from('198.51.100.1')).status).toBe(429);
    expect((await from('198.51.100.2')).status).toBe(200);
  });
});

describe('failed sign-ins', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '4', TRUST_PROXY: 'true' } });
  });
  afterAll(() => api?.close());

  it('spend the address\'s anonymous allowance: a burst of bad tokens ends in 429, not endless 401s', async () => {
    const guess = (i: number) =>
      api.as({ token: `ba_000000000000_guess${i}` }).post(JSON.stringify({ query: '{ me { anonymous } }' }), { 'x-forwarded-for': '192.0.2.77' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await guess(i)).status);
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses.slice(4)).toEqual(Array(8).fill(429));
    const res = await guess(99);
    expect(((await res.json()) as any).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 4, scope: 'ip' });
    expect(res.headers.get('retry-after')).toBeTruthy();
    // The same address is refused anonymously too: the guesses spent its allowance.
    const anon = await api.as('anonymous').post(JSON.stringify({ query: '{ me { anonymous } }' }), { 'x-forwarded-for': '192.0.2.77' });
    expect(anon.status).toBe(429);
    // Another address is unaffected.
    const other = await api.as('anonymous').post(JSON.stringify({ query: '{ me { anonymous } }' }), { 'x-forwarded-for': '192.0.2.78' });
    expect(other.status).toBe(200);
  });
});

describe('request size', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { MAX_REQUEST_MB: '1' } });
  });
  afterAll(() => api?.close());

  it('refuses a body above MAX_REQUEST_MB with PAYLOAD_TOO_LARGE and the limit in bytes', async () => {
    const res = await api.as('operator').post(JSON.stringify({ query: '{ me { anonymous } }', variables: { pad: 'x'.repeat(1024 * 1024) } }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE', limit: 1024 * 1024 });
    expect(api.logs.some((l) => l.message === 'request refused' && l.fields.code === 'PAYLOAD_TOO_LARGE')).toBe(true);
  });
});

describe('token buckets', () => {
  it('in memory: a full minute of burst, then one request per 60/allowance seconds', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    for (let i = 0; i < 60; i++) expect((await limiter.take('k', 60)).allowed).toBe(true);
    expect(await limiter.take('k', 60)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 1000;
    expect((await limiter.take('k', 60)).allowed).toBe(true);
    now += 500;
    expect(await limiter.take('k', 60)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // 6 per minute: one every 10 s; after 4 s, 6 s are left.
    for (let i = 0; i < 6; i++) await limiter.take('slow', 6);
    now += 4000;
    expect(await limiter.take('slow', 6)).toEqual({ allowed: false, retryAfterSeconds: 6 });
    // Keys are independent.
    expect((await limiter.take('other', 60)).allowed).toBe(true);
  });

  it('in Redis: the same rule, shared by every API process using the prefix', async () => {
    const prefix = `${process.env.TEST_QUEUE_PREFIX}-rate`;
    const a = new RedisRateLimiter(process.env.TEST_REDIS_URL!, prefix);
    const b = new RedisRateLimiter(process.env.TEST_REDIS_URL!, prefix);
    try {
      expect((await a.take('k', 2)).allowed).toBe(true);
      expect((await b.take('k', 2)).allowed).toBe(true);
      const refused = await a.take('k', 2);
      expect(refused.allowed).toBe(false);
      // 2 per minute: one every 30 s.
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(29);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(30);
      expect((await b.take('other', 2)).allowed).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('with Redis unreachable: each process keeps limiting on its own buckets instead of letting everything through', async () => {
    const limiter = new RedisRateLimiter('redis://127.0.0.1:1', 'unreachable');
    try {
      expect((await limiter.take('k', 2)).allowed).toBe(true);
      expect((await limiter.take('k', 2)).allowed).toBe(true);
      const refused = await limiter.take('k', 2);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(29);
      expect((await limiter.take('other', 2)).allowed).toBe(true);
    } finally {
      await limiter.close();
    }
  });
});
