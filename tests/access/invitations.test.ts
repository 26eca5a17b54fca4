// Member management reveals nothing about which user names exist: a lab admin's invitation gets
// the same answer, and leaves the same rows, for a taken name and a free one; nobody joins until
// the invitee accepts with the one-time code, signed in as that user (or, for a free name, by
// creating the account with it).
import { startTestApi, type TestApi } from '../helpers/api';
import { addMember, createLab, type Member } from '../helpers/access';
import { uniqueName } from '../helpers/db';

let api: TestApi;
let labA: string;
let aAdmin: Member;
let existing: Member; // a user of another lab
beforeAll(async () => {
  api = await startTestApi();
  labA = await createLab(api, 'inv-a');
  const labB = await createLab(api, 'inv-b');
  aAdmin = await addMember(api, labA, 'ADMIN');
  existing = await addMember(api, labB, 'SUBMITTER');
});
afterAll(() => api.close());

const as = (m: Member) => api.as({ token: m.token });
const INVITE = `mutation($i: InviteLabMemberInput!) { inviteLabMember(input: $i) { code invitation { id userName role createdAt expiresAt lab { id } } } }`;
const ACCEPT = `mutation($c: String!) { acceptLabInvitation(code: $c) { membership { role lab { id } user { name } } token { secret } } }`;
const MEMBERS = `query { labs { id members { user { name } } invitations { userName role } } }`;
const membersOfA = async () => (await as(aAdmin).ok(MEMBERS)).labs.find((l: any) => l.id === labA);

/** An answer with what necessarily differs (ids, the code, times, the name) blanked out. */
function shape(body: any) {
  return JSON.parse(
    JSON.stringify(body, (k, v) => (['id', 'code', 'createdAt', 'expiresAt', 'userName'].includes(k) ? typeof v : v)),
  );
}

test('an admin gets the same answer for a taken and a free name, and learns no user id', async () => {
  const users = await api.db.user.count();
  const taken = await as(aAdmin).gql(INVITE, { i: { labId: labA, userName: existing.name, role: 'VIEWER' } });
  const free = await as(aAdmin).gql(INVITE, { i: { labId: labA, userName: uniqueName('nobody'), role: 'VIEWER' } });
  expect(taken.errors).toBeUndefined();
  expect(shape(taken)).toEqual(shape(free));
  expect(JSON.stringify(taken)).not.toContain(existing.userId);
  // Nothing was created or changed for either name: no user, no membership.
  expect(await api.db.user.count()).toBe(users);
  expect(await api.db.labMembership.count({ where: { userId: existing.userId } })).toBe(1);
  const a = await membersOfA();
  expect(a.members.map((m: any) => m.user.name)).toEqual([aAdmin.name]);
  expect(a.invitations.map((i: any) => i.userName).sort()).toEqual([existing.name, free.data.inviteLabMember.invitation.userName].sort());
  // The invitations are the admin's to see, not other members'.
  const viewer = await addMember(api, labA, 'VIEWER');
  expect((await as(viewer).ok(MEMBERS)).labs.find((l: any) => l.id === labA).invitations).toEqual([]);
  // Direct adds, which would reveal the user, are refused to admins whatever the name.
  for (const userName of [existing.name, uniqueName('nobody')]) {
    const res = await as(aAdmin).gql(`mutation($i: AddLabMemberInput!) { addLabMember(input: $i) { user { id } } }`, { i: { labId: labA, userName, role: 'VIEWER' } });
    expect(res.errors?.[0].extensions.code).toBe('FORBIDDEN');
  }
});

test('an existing user joins only by accepting, signed in as themselves; other holders get NOT_FOUND', async () => {
  const { inviteLabMember } = await as(aAdmin).ok(INVITE, { i: { labId: labA, userName: existing.name, role: 'SUBMITTER' } });
  const notFound = async (who: ReturnType<typeof api.as>) => {
    const res = await who.gql(ACCEPT, { c: inviteLabMember.code });
    return res.errors?.[0].extensions.code;
  };
  expect(await notFound(as(aAdmin))).toBe('NOT_FOUND'); // signed in as someone else
  // Anonymous for a taken name: sign in first (as at any sign-up); the invitation stays usable.
  const anon = await api.as('anonymous').gql(ACCEPT, { c: inviteLabMember.code });
  expect(anon.errors?.[0].extensions.code).toBe('FORBIDDEN');
  expect(anon.errors?.[0].message).toMatch(/sign in as that user/);
  const { acceptLabInvitation } = await as(existing).ok(ACCEPT, { c: inviteLabMember.code });
  expect(acceptLabInvitation).toEqual({ membership: { role: 'SUBMITTER', lab: { id: labA }, user: { name: existing.name } }, token: null });
  expect(await notFound(as(existing))).toBe('NOT_FOUND'); // one-time
  expect((await membersOfA()).members.map((m: any) => m.user.name)).toContain(existing.name);
});

test('a free name is claimed with the code: the account, its membership and a first token', async () => {
  const name = uniqueName('newcomer');
  const { inviteLabMember } = await as(aAdmin).ok(INVITE, { i: { labId: labA, userName: name, role: 'VIEWER', expiresInDays: 2 } });
  const { acceptLabInvitation } = await api.as('anonymous').ok(ACCEPT, { c: inviteLabMember.code });
  expect(acceptLabInvitation.membership).toEqual({ role: 'VIEWER', lab: { id: labA }, user: { name } });
  const { me } = await api.as({ token: acceptLabInvitation.token.secret }).ok(`{ me { user { name } labs { role lab { id } } } }`);
  expect(me).toEqual({ user: { name }, labs: [{ role: 'VIEWER', lab: { id: labA } }] });
});

test('expired, unknown and malformed codes all answer NOT_FOUND; bad durations are refused', async () => {
  const { inviteLabMember } = await as(aAdmin).ok(INVITE, { i: { labId: labA, userName: uniqueName('late'), role: 'VIEWER' } });
  await api.db.labInvitation.updateMany({ where: { id: inviteLabMember.invitation.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
  for (const c of [inviteLabMember.code, 'bai_not-a-real-code', '']) {
    const res = await api.as('anonymous').gql(ACCEPT, { c });
    expect(res.errors?.[0].extensions.code).toBe('NOT_FOUND');
  }
  const res = await as(aAdmin).gql(INVITE, { i: { labId: labA, userName: 'x', role: 'VIEWER', expiresInDays: 31 } });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresInDays' });
});
