// Labs, their members and roles, and the API tokens members act through.
import { DEFAULT_TOKEN_DAYS, issueToken, MAX_TOKEN_DAYS } from '../auth/api-tokens';
import { roleOf } from '../auth/authenticate';
import type { Db } from '../db/client';
import { createHash, randomBytes } from 'node:crypto';
import { badInput, conflict, DomainError, forbidden, notFound } from '../errors';
import type { LabRole } from '../generated/prisma/client';
import type { DomainContext } from './context';
import type { Viewer } from '../access/viewer';
import { assertCanWrite, requireOperator } from './access';
import { writing } from './catalog';
import { requireName, requireUuid } from './validate';

/** The lab that writes go to when a client names none (the installation's own lab). */
export async function ensureDefaultLab(db: Db, name = 'local') {
  return db.lab.upsert({ where: { name }, update: {}, create: { name } });
}

/** Labs are listed to signed-in clients (sharing names them); anonymous clients see none. */
export function visibleLabs(ctx: DomainContext) {
  if (!ctx.viewer.superuser && !ctx.viewer.userId) return [];
  return ctx.db.lab.findMany({ orderBy: { name: 'asc' } });
}

export async function createLab(ctx: DomainContext, input: { name: string }) {
  requireOperator(ctx.viewer);
  const name = requireName(input.name, 'name');
  return writing(`A lab named ${JSON.stringify(name)}`, () => ctx.db.lab.create({ data: { name } }));
}

async function existingLab(ctx: DomainContext, labId: string) {
  const lab = await ctx.db.lab.findUnique({ where: { id: requireUuid(labId, 'labId') } });
  // Non-members learn nothing about labs they cannot administer beyond what FORBIDDEN says.
  if (!lab) throw notFound('Lab', labId);
  return lab;
}

/**
 * Adds a user (created on first mention) to a lab directly; operators only, who see every user
 * anyway. A lab admin would learn from the answer whether a name is taken and the user's id, and
 * could pull an existing user into the lab unasked: admins invite instead (inviteLabMember).
 */
export async function addLabMember(ctx: DomainContext, input: { labId: string; userName: string; role: LabRole }) {
  const lab = await existingLab(ctx, input.labId);
  assertCanWrite(ctx.viewer, lab.id, 'admin');
  if (!ctx.viewer.superuser) throw forbidden('Lab admins add members with inviteLabMember (a one-time code for the invitee); addLabMember is for operators');
  const userName = requireName(input.userName, 'userName');
  return ctx.db.$transaction(async (tx) => {
    const user = await tx.user.upsert({ where: { name: userName }, update: {}, create: { name: userName } });
    const existing = await tx.labMembership.findUnique({ where: { labId_userId: { labId: lab.id, userId: user.id } } });
    if (existing) throw conflict(`${userName} is already a ${existing.role} of lab ${lab.name}; change the role with setLabRole`);
    return tx.labMembership.create({ data: { labId: lab.id, userId: user.id, role: input.role } });
  });
}

const MAX_INVITATION_DAYS = 30;
const hashCode = (code: string) => createHash('sha256').update(code).digest('hex');

/**
 * Invites a user, by name, to a lab; lab admins and operators. The answer (and everything stored)
 * is the same whether or not a user of that name exists: no user is created or looked up here,
 * and nobody joins until the invitee redeems the one-time code. Re-inviting a name replaces its
 * pending invitation (and code).
 */
export async function inviteLabMember(ctx: DomainContext, input: { labId: string; userName: string; role: LabRole; expiresInDays?: number | null }) {
  const lab = await existingLab(ctx, input.labId);
  assertCanWrite(ctx.viewer, lab.id, 'admin');
  const userName = requireName(input.userName, 'userName');
  const days = input.expiresInDays ?? 7;
  if (!Number.isInteger(days) || days < 1 || days > MAX_INVITATION_DAYS)
    throw badInput(`expiresInDays must be a whole number of days from 1 to ${MAX_INVITATION_DAYS} (got ${days})`, 'expiresInDays');
  const code = `bai_${randomBytes(32).toString('base64url')}`;
  const data = { role: input.role, codeHash: hashCode(code), createdAt: new Date(), expiresAt: new Date(Date.now() + days * 86_400_000) };
  const invitation = await ctx.db.labInvitation.upsert({
    where: { labId_userName: { labId: lab.id, userName } },
    update: data,
    create: { labId: lab.id, userName, ...data },
  });
  return { invitation, code };
}

/**
 * Redeems an invitation code. Signed in, the viewer must be the invited user. Anonymous, the
 * code creates the invited account if no user has that name yet, and returns its first token;
 * if the name is taken the holder must sign in as that user, as at any sign-up.
 * Unknown, expired and someone else's codes all answer the same NOT_FOUND.
 */
export async function acceptLabInvitation(ctx: DomainContext, code: string) {
  const missing = () => new DomainError('NOT_FOUND', 'This invitation code does not exist, has expired or is for another user');
  const invitation = await ctx.db.labInvitation.findUnique({ where: { codeHash: hashCode(String(code)) } });
  if (!invitation || invitation.expiresAt < new Date()) throw missing();
  const { viewer } = ctx;
  if (viewer.userId) {
    const user = await ctx.db.user.findUnique({ where: { id: viewer.userId } });
    if (!user || user.name !== invitation.userName) throw missing();
    const membership = await ctx.db.$transaction(async (tx) => {
      const taken = await tx.labInvitation.deleteMany({ where: { id: invitation.id } });
      if (taken.count === 0) throw missing(); // redeemed by a concurrent request
      const existing = await tx.labMembership.findUnique({ where: { labId_userId: { labId: invitation.labId, userId: user.id } } });
      // Already a member: the invitation changes nothing (a role change is setLabRole's).
      return existing ?? tx.labMembership.create({ data: { labId: invitation.labId, userId: user.id, role: invitation.role } });
    });
    return { membership, token: null };
  }
  if (viewer.superuser) throw forbidden('Accept an invitation as the invited user, not with the operator token');
  return ctx.db.$transaction(async (tx) => {
    const taken = await tx.labInvitation.deleteMany({ where: { id: invitation.id } });
    if (taken.count === 0) throw missing();
    if (await tx.user.findUnique({ where: { name: invitation.userName } }))
      throw forbidden(`An account named ${invitation.userName} exists: sign in as that user (Authorization: Bearer <token>) and accept again`);
    const user = await tx.user.create({ data: { name: invitation.userName } });
    const membership = await tx.labMembership.create({ data: { labId: invitation.labId, userId: user.id, role: invitation.role } });
    const token = await issueToken(tx as unknown as Db, user.id, { name: 'first token (lab invitation)', expiresAt: new Date(Date.now() + DEFAULT_TOKEN_DAYS * 86_400_000) });
    return { membership, token };
  });
}

/** Pending invitations of a lab, listed to its admins and operators only. */
export function labInvitations(ctx: DomainContext, labId: string) {
  if (!ctx.viewer.superuser && ctx.viewer.roles.get(labId) !== 'admin') return [];
  return ctx.db.labInvitation.findMany({ where: { labId, expiresAt: { gt: new Date() } }, orderBy: { createdAt: 'asc' } });
}

async function membership(ctx: DomainContext, labId: string, userId: string) {
  const m = await ctx.db.labMembership.findUnique({ where: { labId_userId: { labId, userId: requireUuid(userId, 'userId') } } });
  if (!m) throw badInput(`User ${userId} is not a member of this lab`, 'userId');
  return m;
}

/** A lab keeps at least one admin, so it never becomes unmanageable without an operator. */
async function keepOneAdmin(ctx: DomainContext, labId: string, leaving: { role: LabRole }) {
  if (leaving.role !== 'ADMIN') return;
  const admins = await ctx.db.labMembership.count({ where: { labId, role: 'ADMIN' } });
  if (admins <= 1) throw conflict('This is the lab\'s last admin; make another member ADMIN first');
}

export async function setLabRole(ctx: DomainContext, input: { labId: string; userId: string; role: LabRole }) {
  const lab = await existingLab(ctx, input.labId);
  assertCanWrite(ctx.viewer, lab.id, 'admin');
  const m = await membership(ctx, lab.id, input.userId);
  if (m.role === input.role) return m;
  if (input.role !== 'ADMIN') await keepOneAdmin(ctx, lab.id, m);
  return ctx.db.labMembership.update({ where: { labId_userId: { labId: m.labId, userId: m.userId } }, data: { role: input.role } });
}

export async function removeLabMember(ctx: DomainContext, input: { labId: string; userId: string }) {
  const lab = await existingLab(ctx, input.labId);
  assertCanWrite(ctx.viewer, lab.id, 'admin');
  const m = await membership(ctx, lab.id, input.userId);
  await keepOneAdmin(ctx, lab.id, m);
  await ctx.db.labMembership.delete({ where: { labId_userId: { labId: m.labId, userId: m.userId } } });
  return true;
}

function signedIn(viewer: Viewer): string {
  if (!viewer.userId) throw forbidden('Sign in with an API token (Authorization: Bearer <token>) to manage tokens');
  return viewer.userId;
}

/**
 * Whether the viewer may act on another user's tokens: operators always; a lab admin only for
 * users whose every lab they administer (a token carries all its user's labs, so anything less
 * would hand out access the admin does not hold).
 */
async function assertManagesUser(ctx: DomainContext, userId: string) {
  if (ctx.viewer.superuser || userId === ctx.viewer.userId) return;
  const user = await ctx.db.user.findUnique({ where: { id: userId }, include: { memberships: true } });
  if (!user) throw notFound('User', userId);
  const adminEverywhere = user.memberships.length > 0 && user.memberships.every((m) => ctx.viewer.roles.get(m.labId) === 'admin');
  if (user.operator || !adminEverywhere) throw forbidden(`You need the admin role in every lab of user ${user.name} (or to be an operator) to manage their tokens`);
}

export async function createApiToken(ctx: DomainContext, input: { name: string; expiresInDays?: number | null; userId?: string | null }) {
  const self = signedIn(ctx.viewer);
  const userId = input.userId ? requireUuid(input.userId, 'userId') : self;
  const name = requireName(input.name, 'name', 100);
  const days = input.expiresInDays ?? DEFAULT_TOKEN_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS)
    throw badInput(`expiresInDays must be a whole number of days from 1 to ${MAX_TOKEN_DAYS} (got ${days})`, 'expiresInDays');
  await assertManagesUser(ctx, userId);
  const { token, secret } = await issueToken(ctx.db, userId, { name, expiresAt: new Date(Date.now() + days * 86_400_000) });
  return { token, secret };
}

export async function revokeApiToken(ctx: DomainContext, id: string) {
  signedIn(ctx.viewer);
  const token = await ctx.db.apiToken.findUnique({ where: { id: requireUuid(id, 'id') } });
  if (!token) throw notFound('API token', id);
  await assertManagesUser(ctx, token.userId).catch(() => {
    throw notFound('API token', id);
  });
  if (token.revokedAt) return token;
  return ctx.db.apiToken.update({ where: { id: token.id }, data: { revokedAt: new Date() } });
}

/** Who the request acts as; null fields for anonymous clients. */
export async function me(ctx: DomainContext) {
  const { viewer } = ctx;
  const user = viewer.userId ? await ctx.db.user.findUnique({ where: { id: viewer.userId } }) : null;
  const [memberships, tokens] = user
    ? await Promise.all([
        ctx.db.labMembership.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } }),
        ctx.db.apiToken.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } }),
      ])
    : [[], []];
  return {
    user,
    anonymous: !viewer.userId && !viewer.superuser,
    operator: viewer.superuser,
    labs: memberships,
    tokens,
    defaultLabId: viewer.defaultLabId ?? null,
  };
}

/** Members of a lab, listed to its members and operators only. */
export function labMembers(ctx: DomainContext, labId: string) {
  if (!ctx.viewer.superuser && !ctx.viewer.roles.has(labId)) return [];
  return ctx.db.labMembership.findMany({ where: { labId }, orderBy: { createdAt: 'asc' } });
}

