// Labs, their members and roles, and the API tokens members act through.
import { DEFAULT_TOKEN_DAYS, issueToken, MAX_TOKEN_DAYS } from '../auth/api-tokens';
import { roleOf } from '../auth/authenticate';
import type { Db } from '../db/client';
import { badInput, conflict, forbidden, notFound } from '../errors';
import type { LabRole } from '../generated/prisma/client';
import type { Context } from '../resolvers/context';
import { assertCanWrite, requireOperator, type Viewer } from './access';
import { writing } from './catalog';
import { requireName, requireUuid } from './validate';

/** The lab that writes go to when a client names none (the installation's own lab). */
export async function ensureDefaultLab(db: Db, name = 'local') {
  return db.lab.upsert({ where: { name }, update: {}, create: { name } });
}

/** Labs are listed to signed-in clients (sharing names them); anonymous clients see none. */
export function visibleLabs(ctx: Context) {
  if (!ctx.viewer.superuser && !ctx.viewer.userId) return [];
  return ctx.db.lab.findMany({ orderBy: { name: 'asc' } });
}

export async function createLab(ctx: Context, input: { name: string }) {
  requireOperator(ctx.viewer);
  const name = requireName(input.name, 'name');
  return writing(`A lab named ${JSON.stringify(name)}`, () => ctx.db.lab.create({ data: { name } }));
}

async function existingLab(ctx: Context, labId: string) {
  const lab = await ctx.db.lab.findUnique({ where: { id: requireUuid(labId, 'labId') } });
  // Non-members learn nothing about labs they cannot administer beyond what FORBIDDEN says.
  if (!lab) throw notFound('Lab', labId);
  return lab;
}

/** Adds a user (created on first mention) to a lab; lab admins and operators only. */
export async function addLabMember(ctx: Context, input: { labId: string; userName: string; role: LabRole }) {
  const lab = await existingLab(ctx, input.labId);
  assertCanWrite(ctx.viewer, lab.id, 'admin');
  const userName = requireName(input.userName, 'userName');
  return ctx.db.$transaction(async (tx) => {
    const user = await tx.user.upsert({ where: { name: userName }, update: {}, create: { name: userName } });
    const existing = await tx.labMembership.findUnique({ where: { labId_userId: { labId: lab.id, userId: user.id } } });
    if (existing) throw conflict(`${userName} is already a ${existing.role} of lab ${lab.name}; change the role with setLabRole`);
    return tx.labMembership.create({ data: { labId: lab.id, userId: user.id, role: input.role } });
  });
}

async function membership(ctx: Context, labId: string, userId: string) {
  const m = await ctx.db.labMembership.findUnique({ where: { labId_userId: { labId, userId: requireUuid(userId, 'userId') } } });
  if (!m) throw badInput(`User ${userId} is not a member of this lab`, 'userId');
  return m;
}

/** A lab keeps at least one admin, so it never becomes unmanageable without an operator. */
async function keepOneAdmin(ctx: Context, labId: string, leaving: { role: LabRole }) {
  if (leaving.role !== 'ADMIN') return;
  const admins = await ctx.db.labMembership.count({ where: { labId, role: 'ADMIN' } });
  if (admins <= 1) throw conflict('This is the lab\'s last admin; make another member ADMIN first');
}

export async function setLabRole(ctx: Context, input: { labId: string; userId: string; role: LabRole }) {
  const lab = await existingLab(ctx, input.labId);
  assertCanWrite(ctx.viewer, lab.id, 'admin');
  const m = await membership(ctx, lab.id, input.userId);
  if (m.role === input.role) return m;
  if (input.role !== 'ADMIN') await keepOneAdmin(ctx, lab.id, m);
  return ctx.db.labMembership.update({ where: { labId_userId: { labId: m.labId, userId: m.userId } }, data: { role: input.role } });
}

export async function removeLabMember(ctx: Context, input: { labId: string; userId: string }) {
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
async function assertManagesUser(ctx: Context, userId: string) {
  if (ctx.viewer.superuser || userId === ctx.viewer.userId) return;
  const user = await ctx.db.user.findUnique({ where: { id: userId }, include: { memberships: true } });
  if (!user) throw notFound('User', userId);
  const adminEverywhere = user.memberships.length > 0 && user.memberships.every((m) => ctx.viewer.roles.get(m.labId) === 'admin');
  if (user.operator || !adminEverywhere) throw forbidden(`You need the admin role in every lab of user ${user.name} (or to be an operator) to manage their tokens`);
}

export async function createApiToken(ctx: Context, input: { name: string; expiresInDays?: number | null; userId?: string | null }) {
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

export async function revokeApiToken(ctx: Context, id: string) {
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
export async function me(ctx: Context) {
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
export function labMembers(ctx: Context, labId: string) {
  if (!ctx.viewer.superuser && !ctx.viewer.roles.has(labId)) return [];
  return ctx.db.labMembership.findMany({ where: { labId }, orderBy: { createdAt: 'asc' } });
}

