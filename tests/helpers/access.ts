// Labs, members and their tokens, made through the API as an operator would.
import type { TestApi } from './api';
import { uniqueName } from './db';

export type LabRole = 'VIEWER' | 'SUBMITTER' | 'ADMIN';

export async function createLab(api: TestApi, prefix = 'lab'): Promise<string> {
  const { createLab } = await api.as('operator').ok(`mutation($n: String!) { createLab(input: { name: $n }) { id } }`, { n: uniqueName(prefix) });
  return createLab.id;
}

export interface Member {
  userId: string;
  name: string;
  token: string;
}

/** Adds a new user to a lab with `role` and gives them a token (made by the operator). */
export async function addMember(api: TestApi, labId: string, role: LabRole, prefix = role.toLowerCase()): Promise<Member> {
  const op = api.as('operator');
  const name = uniqueName(prefix);
  const { addLabMember } = await op.ok(`mutation($i: AddLabMemberInput!) { addLabMember(input: $i) { user { id } } }`, { i: { labId, userName: name, role } });
  const { createApiToken } = await op.ok(`mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { secret } }`, {
    i: { name: `${name} script`, userId: addLabMember.user.id, expiresInDays: 1 },
  });
  return { userId: addLabMember.user.id, name, token: createApiToken.secret };
}
