// Writes need a role in the owning lab; a token of one lab cannot read or change another lab's
// private objects; every refusal leaves the database as it was and is logged.
import { encodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { addMember, createLab, type Member } from '../helpers/access';
import { uploadArtifact } from '../helpers/upload';

let api: TestApi;
let labA: string;
let labB: string;
let aViewer: Member;
let aSubmitter: Member;
let aAdmin: Member;
let bSubmitter: Member;
let bAdmin: Member;

beforeAll(async () => {
  api = await startTestApi();
  labA = await createLab(api, 'A');
  labB = await createLab(api, 'B');
  aViewer = await addMember(api, labA, 'VIEWER');
  aSubmitter = await addMember(api, labA, 'SUBMITTER');
  aAdmin = await addMember(api, labA, 'ADMIN');
  bSubmitter = await addMember(api, labB, 'SUBMITTER');
  bAdmin = await addMember(api, labB, 'ADMIN');
});
afterAll(() => api?.close());

const as = (m: Member) => api.as({ token: m.token });

/** Row counts of everything a refused write could have touched. */
async function snapshot() {
  const db = api.db;
  const [datasets, subjects, models, runs, memberships, labs, artifacts] = await Promise.all([
    db.dataset.count(), db.subject.count(), db.model.count(), db.run.count(), db.labMembership.count(), db.lab.count(), db.artifact.count(),
  ]);
  return { datasets, subjects, models, runs, memberships, labs, artifacts };
}

async function refused(who: ReturnType<typeof api.as>, query: string, variables: Record<string, unknown>, code: string, message?: RegExp) {
  const before = await snapshot();
  const body = await who.gql(query, variables);
  expect(body.errors?.[0]?.extensions?.code).toBe(code);
  if (message) expect(body.errors?.[0]?.message).toMatch(message);
  expect(await snapshot()).toEqual(before);
  return body.errors![0];
}

const CREATE_DATASET = `mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id visibility lab { id } } }`;
const CREATE_SUBJECT = `mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`;

describe('roles', () => {
  it('lets submitters write to their lab (their default), and refuses viewers naming the role needed', async () => {
    const { createDataset } = await as(aSubmitter).ok(CREATE_DATASET, { i: { name: 'mine' } });
    expect(createDataset.lab.id).toBe(labA);
    const err = await refused(as(aViewer), CREATE_DATASET, { i: { name: 'not-mine', labId: labA } }, 'FORBIDDEN', /submitter role/);
    expect(err.message).toContain(labA);
    expect(api.logs.some((l) => l.message === 'request refused' && l.fields.code === 'FORBIDDEN' && l.fields.userId === aViewer.userId)).toBe(true);
  });

  it('refuses anonymous writes', async () => {
    await refused(api.as('anonymous'), CREATE_DATASET, { i: { name: 'anon' } }, 'FORBIDDEN', /Authorization: Bearer/);
    await refused(api.as('anonymous'), CREATE_DATASET, { i: { name: 'anon', labId: labA } }, 'FORBIDDEN', /Authorization: Bearer/);
  });

  it("keeps lab B's token off lab A's objects: private ones are NOT_FOUND, shared ones FORBIDDEN to change", async () => {
    const { createDataset: priv } = await as(aSubmitter).ok(CREATE_DATASET, { i: { name: 'private-a' } });
    const { createDataset: shared } = await as(aSubmitter).ok(CREATE_DATASET, { i: { name: 'shared-a' } });
    await as(aAdmin).ok(`mutation($i: SetVisibilityInput!) { setVisibility(input: $i) { visibility } }`, { i: { kind: 'DATASET', id: shared.id, visibility: 'SHARED', sharedWith: [labB] } });

    expect((await as(bSubmitter).ok(`query($id: ID!) { dataset(id: $id) { id } }`, { id: priv.id })).dataset).toBeNull();
    expect((await as(bSubmitter).ok(`query($id: ID!) { dataset(id: $id) { id } }`, { id: shared.id })).dataset).toEqual({ id: shared.id });
    const subject = { name: 's1', nVoxels: 2 };
    const missing = await refused(as(bSubmitter), CREATE_SUBJECT, { i: { datasetId: priv.id, ...subject } }, 'NOT_FOUND');
    expect(missing.message).toMatch(/does not exist or is not visible to you/);
    // Hidden objects look missing to the client, but the log says who asked for what.
    const probes = api.logs.filter((l) => l.fields.code === 'NOT_FOUND' && l.fields.userId === bSubmitter.userId);
    expect(probes.map((l) => l.fields.reason)).toEqual(expect.arrayContaining([`Dataset ${priv.id} does not exist or is not visible to this client`]));
    await refused(as(bSubmitter), CREATE_SUBJECT, { i: { datasetId: shared.id, ...subject } }, 'FORBIDDEN', /submitter role/);
    await refused(as(bSubmitter), CREATE_DATASET, { i: { name: 'into-a', labId: labA } }, 'FORBIDDEN');
    await refused(as(bAdmin), `mutation($i: SetVisibilityInput!) { setVisibility(input: $i) { id } }`, { i: { kind: 'DATASET', id: shared.id, visibility: 'PUBLIC' } }, 'FORBIDDEN', /admin role/);
    expect(await api.db.dataset.findUniqueOrThrow({ where: { id: shared.id } })).toMatchObject({ visibility: 'SHARED', sharedWith: [labB] });
  });

  it("refuses another lab's private artifact as an input, and lets a lab that uploads the same bytes use them", async () => {
    const { createDataset: ds } = await as(bSubmitter).ok(CREATE_DATASET, { i: { name: 'b-data' } });
    const { createSubject: subj } = await as(bSubmitter).ok(CREATE_SUBJECT, { i: { datasetId: ds.id, name: 's1', nVoxels: 2 } });
    const { createStimulusSet: set } = await as(bSubmitter).ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
      i: { datasetId: ds.id, name: 'images', stimuli: [{ externalId: 'a' }, { externalId: 'b' }, { externalId: 'c' }] },
    });
    const bytes = encodeNpy({ dtype: '<f4', shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    const aArtifact = await uploadArtifact({ ...api, ok: as(aSubmitter).ok } as TestApi, bytes, 'a-betas.npy');
    expect((await as(bSubmitter).ok(`query($id: ID!) { artifact(id: $id) { id } }`, { id: aArtifact.id })).artifact).toBeNull();
    const IMPORT = `mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } } }`;
    const input = { subjectId: subj.id, stimulusSetId: set.id, artifactId: aArtifact.id };
    const err = await refused(as(bSubmitter), IMPORT, { i: input }, 'BAD_USER_INPUT', /does not exist or is not visible to you/);
    expect(err.extensions.field).toBe('artifactId');
    // Uploading the same bytes proves B holds them: the existing artifact becomes usable by B.
    const bArtifact = await uploadArtifact({ ...api, ok: as(bSubmitter).ok } as TestApi, bytes, 'b-betas.npy');
    expect(bArtifact.id).toBe(aArtifact.id);
    const { importResponseSet } = await as(bSubmitter).ok(IMPORT, { i: input });
    expect(importResponseSet.run.id).toBeTruthy();
  });

  it('lets only operators create labs, and only lab admins manage members, keeping one admin', async () => {
    await refused(as(aAdmin), `mutation { createLab(input: { name: "rogue" }) { id } }`, {}, 'FORBIDDEN', /operator/);
    const ADD = `mutation($i: AddLabMemberInput!) { addLabMember(input: $i) { role user { id name } lab { id } } }`;
    const INVITE = `mutation($i: InviteLabMemberInput!) { inviteLabMember(input: $i) { code invitation { userName role lab { id } } } }`;
    // Admins invite; adding directly (which reveals users) is the operator's.
    await refused(as(aAdmin), ADD, { i: { labId: labA, userName: 'newcomer-z', role: 'VIEWER' } }, 'FORBIDDEN', /inviteLabMember/);
    await refused(as(aSubmitter), INVITE, { i: { labId: labA, userName: 'newcomer-x', role: 'VIEWER' } }, 'FORBIDDEN', /admin role/);
    await refused(as(bAdmin), INVITE, { i: { labId: labA, userName: 'newcomer-y', role: 'ADMIN' } }, 'FORBIDDEN', /admin role/);
    const { inviteLabMember } = await as(aAdmin).ok(INVITE, { i: { labId: labA, userName: 'newcomer-z', role: 'VIEWER' } });
    expect(inviteLabMember.invitation).toEqual({ userName: 'newcomer-z', role: 'VIEWER', lab: { id: labA } });
    const { acceptLabInvitation } = await api
      .as('anonymous')
      .ok(`mutation($c: String!) { acceptLabInvitation(code: $c) { membership { role user { id name } lab { id } } token { secret } } }`, { c: inviteLabMember.code });
    const addLabMember = acceptLabInvitation.membership;
    expect(addLabMember).toMatchObject({ role: 'VIEWER', lab: { id: labA }, user: { name: 'newcomer-z' } });
    expect(acceptLabInvitation.token.secret).toMatch(/^ba_/);
    const SET = `mutation($i: SetLabRoleInput!) { setLabRole(input: $i) { role } }`;
    expect((await as(aAdmin).ok(SET, { i: { labId: labA, userId: addLabMember.user.id, role: 'SUBMITTER' } })).setLabRole.role).toBe('SUBMITTER');
    // The last admin cannot step down or leave.
    await refused(as(aAdmin), SET, { i: { labId: labA, userId: aAdmin.userId, role: 'VIEWER' } }, 'CONFLICT', /last admin/);
    await refused(as(aAdmin), `mutation($i: RemoveLabMemberInput!) { removeLabMember(input: $i) }`, { i: { labId: labA, userId: aAdmin.userId } }, 'CONFLICT');
    expect((await as(aAdmin).ok(`mutation($i: RemoveLabMemberInput!) { removeLabMember(input: $i) }`, { i: { labId: labA, userId: addLabMember.user.id } })).removeLabMember).toBe(true);
    // Members are listed to the lab's members only.
    const MEMBERS = `query { labs { id members { user { name } } } }`;
    const seenByB = (await as(bSubmitter).ok(MEMBERS)).labs.find((l: any) => l.id === labA);
    expect(seenByB.members).toEqual([]);
    const seenByA = (await as(aViewer).ok(MEMBERS)).labs.find((l: any) => l.id === labA);
    expect(seenByA.members.map((m: any) => m.user.name).sort()).toEqual([aViewer.name, aSubmitter.name, aAdmin.name].sort());
    expect((await api.as('anonymous').ok(MEMBERS)).labs).toEqual([]);
  });

  it('a removed member loses access on the next request', async () => {
    const m = await addMember(api, labA, 'VIEWER');
    const { createDataset: ds } = await as(aSubmitter).ok(CREATE_DATASET, { i: { name: 'members-only' } });
    const READ = `query($id: ID!) { dataset(id: $id) { id } }`;
    expect((await as(m).ok(READ, { id: ds.id })).dataset).toEqual({ id: ds.id });
    await as(aAdmin).ok(`mutation($i: RemoveLabMemberInput!) { removeLabMember(input: $i) }`, { i: { labId: labA, userId: m.userId } });
    expect((await as(m).ok(READ, { id: ds.id })).dataset).toBeNull();
  });

  it('checks setVisibility input', async () => {
    const { createDataset: ds } = await as(aSubmitter).ok(CREATE_DATASET, { i: { name: 'to-share' } });
    const SET = `mutation($i: SetVisibilityInput!) { setVisibility(input: $i) { visibility sharedWith { id } } }`;
    const e1 = await refused(as(aAdmin), SET, { i: { kind: 'DATASET', id: ds.id, visibility: 'SHARED' } }, 'BAD_USER_INPUT');
    expect(e1.extensions.field).toBe('sharedWith');
    const e2 = await refused(as(aAdmin), SET, { i: { kind: 'DATASET', id: ds.id, visibility: 'SHARED', sharedWith: ['00000000-0000-4000-8000-000000000000'] } }, 'BAD_USER_INPUT');
    expect(e2.extensions.field).toBe('sharedWith[0]');
    await refused(as(aSubmitter), SET, { i: { kind: 'DATASET', id: ds.id, visibility: 'PUBLIC' } }, 'FORBIDDEN', /admin role/);
    const { setVisibility } = await as(aAdmin).ok(SET, { i: { kind: 'DATASET', id: ds.id, visibility: 'SHARED', sharedWith: [labB] } });
    expect(setVisibility).toEqual({ visibility: 'SHARED', sharedWith: [{ id: labB }] });
  });
});
