// API tokens: shown once, stored as sha256, revocable, expiring; a header that names no live
// token is refused (never downgraded to anonymous), logged, and writes nothing.
import { createHash } from 'node:crypto';
import { ensureOperatorToken } from '../../src/auth/operator';
import { newTokenSecret } from '../../src/auth/tokens';
import { ConfigError, loadConfig } from '../../src/config';
import { startTestApi, type TestApi } from '../helpers/api';
import { addMember, createLab, type Member } from '../helpers/access';

let api: TestApi;
let labA: string;
let submitter: Member;

beforeAll(async () => {
  api = await startTestApi();
  labA = await createLab(api, 'A');
  submitter = await addMember(api, labA, 'SUBMITTER');
});
afterAll(() => api?.close());

const ME = `{ me { anonymous operator user { name } labs { role lab { id } } defaultLab { id } tokens { name prefix expiresAt revokedAt } } }`;

async function datasetCount(): Promise<number> {
  return api.db.dataset.count({ where: { labId: labA } });
}

describe('API tokens', () => {
  it('shows the secret once and stores only its sha256', async () => {
    const c = api.as({ token: submitter.token });
    const { createApiToken } = await c.ok(`mutation { createApiToken(input: { name: "laptop", expiresInDays: 30 }) { secret token { id prefix expiresAt user { name } } } }`);
    const { secret, token } = createApiToken;
    expect(secret).toMatch(/^ba_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(secret.startsWith(`ba_${token.prefix}_`)).toBe(true);
    expect(token.user.name).toBe(submitter.name);
    const days = (new Date(token.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    const row = await api.db.apiToken.findUniqueOrThrow({ where: { id: token.id } });
    expect(row.secretHash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(secret.slice(16));
    // Lists never carry the secret again.
    const me = await api.as({ token: secret }).ok(ME);
    expect(JSON.stringify(me)).not.toContain(secret.slice(16));
    expect(me.me).toMatchObject({ anonymous: false, operator: false, user: { name: submitter.name }, labs: [{ role: 'SUBMITTER', lab: { id: labA } }], defaultLab: { id: labA } });
    expect(me.me.tokens.map((t: any) => t.name)).toEqual(expect.arrayContaining(['laptop']));
  });

  it('records when a token was last used', async () => {
    const m = await addMember(api, labA, 'VIEWER');
    await api.as({ token: m.token }).ok('{ me { anonymous } }');
    await new Promise((r) => setTimeout(r, 200));
    const row = await api.db.apiToken.findFirstOrThrow({ where: { user: { name: m.name } } });
    expect(row.lastUsedAt).not.toBeNull();
  });

  it('answers anonymous clients as anonymous, and operators as operators', async () => {
    expect((await api.as('anonymous').ok(ME)).me).toMatchObject({ anonymous: true, operator: false, user: null, labs: [], tokens: [] });
    expect((await api.as('operator').ok(ME)).me).toMatchObject({ anonymous: false, operator: true, user: { name: 'admin' } });
  });

  it('refuses a revoked token at once, with UNAUTHENTICATED and 401, writing nothing', async () => {
    const m = await addMember(api, labA, 'SUBMITTER');
    const c = api.as({ token: m.token });
    const { me } = await c.ok(`{ me { tokens { id } } }`);
    const { revokeApiToken } = await c.ok(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: me.tokens[0].id });
    expect(revokeApiToken.revokedAt).not.toBeNull();
    const before = await datasetCount();
    const res = await c.post(JSON.stringify({ query: 'mutation { createDataset(input: { name: "after-revoke" }) { id } }' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body: any = await res.json();
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0].message).toMatch(/was revoked at .*create a new one/);
    expect(await datasetCount()).toBe(before);
    expect(api.logs.some((l) => l.message === 'request refused' && l.fields.code === 'UNAUTHENTICATED' && /revoked/.test(String(l.fields.reason)))).toBe(true);
  });

  it('refuses an expired token, naming when it expired', async () => {
    const m = await addMember(api, labA, 'SUBMITTER');
    const expiredAt = new Date(Date.now() - 1000);
    await api.db.apiToken.updateMany({ where: { user: { name: m.name } }, data: { expiresAt: expiredAt } });
    const body = await api.as({ token: m.token }).gql('{ me { anonymous } }');
    expect(body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors?.[0].message).toContain(`expired at ${expiredAt.toISOString()}`);
    expect(body.data).toBeUndefined();
  });

  it.each([
    ['an unknown token', { authorization: 'Bearer ba_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, /not recognised/],
    ['a token with a wrong secret', {}, /not recognised/],
    ['a malformed token', { authorization: 'Bearer hunter2' }, /malformed/],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }, /Bearer <token>/],
  ])('refuses %s instead of treating the client as anonymous', async (_name, headers, message) => {
    const h: Record<string, string> = { ...headers };
    if (!h.authorization) h.authorization = `Bearer ${submitter.token.slice(0, -4)}AAAA`;
    const res = await api.as('anonymous').post(JSON.stringify({ query: '{ me { anonymous } }' }), h);
    expect(res.status).toBe(401);
    const body: any = await res.json();
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0].message).toMatch(message);
  });

  it('checks expiry bounds and who may issue tokens for whom', async () => {
    const c = api.as({ token: submitter.token });
    const bad = await c.gql(`mutation { createApiToken(input: { name: "forever", expiresInDays: 100000 }) { secret } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresInDays' });
    const other = await addMember(api, labA, 'VIEWER');
    const forOther = await c.gql(`mutation($u: ID!) { createApiToken(input: { name: "x", userId: $u }) { secret } }`, { u: other.userId });
    expect(forOther.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const anon = await api.as('anonymous').gql(`mutation { createApiToken(input: { name: "x" }) { secret } }`);
    expect(anon.errors?.[0].extensions.code).toBe('FORBIDDEN');
    // A lab admin may issue tokens to members of the labs they administer (and only those).
    const admin = await addMember(api, labA, 'ADMIN');
    const ok = await api.as({ token: admin.token }).ok(`mutation($u: ID!) { createApiToken(input: { name: "for member", userId: $u }) { token { user { id } } } }`, { u: other.userId });
    expect(ok.createApiToken.token.user.id).toBe(other.userId);
    const labB = await createLab(api, 'B');
    const outsider = await addMember(api, labB, 'VIEWER');
    const denied = await api.as({ token: admin.token }).gql(`mutation($u: ID!) { createApiToken(input: { name: "x", userId: $u }) { secret } }`, { u: outsider.userId });
    expect(denied.errors?.[0].extensions.code).toBe('FORBIDDEN');
    // Someone else's token cannot be revoked, and its existence is not confirmed.
    const theirs = await api.db.apiToken.findFirstOrThrow({ where: { userId: outsider.userId } });
    const revoke = await c.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: theirs.id });
    expect(revoke.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await api.db.apiToken.findUniqueOrThrow({ where: { id: theirs.id } })).revokedAt).toBeNull();
  });

  it('seeds the operator token from BRAINALIGN_ADMIN_TOKEN, idempotently, and validates its format', async () => {
    const secret = newTokenSecret().token;
    expect(loadConfig({ BRAINALIGN_ADMIN_TOKEN: secret }).adminToken).toBe(secret);
    expect(() => loadConfig({ BRAINALIGN_ADMIN_TOKEN: 'letmein' })).toThrow(ConfigError);
    expect(() => loadConfig({ BRAINALIGN_ADMIN_TOKEN: 'letmein' })).toThrow(/BRAINALIGN_ADMIN_TOKEN: expected ba_/);
    await ensureOperatorToken(api.db, { token: secret });
    await ensureOperatorToken(api.db, { token: secret }); // a restart
    expect(await api.db.apiToken.count({ where: { prefix: secret.slice(3, 15) } })).toBe(1);
    expect((await api.as({ token: secret }).ok('{ me { operator } }')).me.operator).toBe(true);
  });
});
