import type { Resolvers } from '../generated/graphql';
import type { ApiToken, LabMembership, User } from '../generated/prisma/client';
import * as labs from '../domain/labs';
import { setVisibility } from '../domain/visibility';
import type { Context } from './context';

export interface MeModel {
  user: User | null;
  anonymous: boolean;
  operator: boolean;
  labs: LabMembership[];
  tokens: ApiToken[];
  defaultLabId: string | null;
}

const labsById = async (ids: string[], ctx: Context) => (await Promise.all(ids.map((id) => ctx.loaders.lab.load(id)))).filter((l) => l !== null);

export const accessResolvers: Resolvers = {
  Query: {
    labs: (_p, _a, ctx) => labs.visibleLabs(ctx),
    me: (_p, _a, ctx) => labs.me(ctx),
  },
  Mutation: {
    createLab: (_p, { input }, ctx) => labs.createLab(ctx, input),
    addLabMember: (_p, { input }, ctx) => labs.addLabMember(ctx, input),
    inviteLabMember: (_p, { input }, ctx) => labs.inviteLabMember(ctx, input),
    acceptLabInvitation: (_p, { code }, ctx) => labs.acceptLabInvitation(ctx, code),
    setLabRole: (_p, { input }, ctx) => labs.setLabRole(ctx, input),
    removeLabMember: (_p, { input }, ctx) => labs.removeLabMember(ctx, input),
    createApiToken: (_p, { input }, ctx) => labs.createApiToken(ctx, input),
    revokeApiToken: (_p, { id }, ctx) => labs.revokeApiToken(ctx, id),
    setVisibility: (_p, { input }, ctx) => setVisibility(ctx, input),
  },
  Me: {
    defaultLab: (m, _a, ctx) => (m.defaultLabId ? ctx.loaders.lab.load(m.defaultLabId) : null),
  },
  Lab: {
    members: (lab, _a, ctx) => labs.labMembers(ctx, lab.id),
    invitations: (lab, _a, ctx) => labs.labInvitations(ctx, lab.id),
  },
  LabInvitation: {
    lab: async (i, _a, ctx) => (await ctx.loaders.lab.load(i.labId))!,
  },
  LabMembership: {
    lab: async (m, _a, ctx) => (await ctx.loaders.lab.load(m.labId))!,
    user: async (m, _a, ctx) => ctx.db.user.findUniqueOrThrow({ where: { id: m.userId } }),
  },
  ApiToken: {
    user: (t, _a, ctx) => ctx.db.user.findUniqueOrThrow({ where: { id: t.userId } }),
  },
  Dataset: {
    sharedWith: (d, _a, ctx) => labsById(d.sharedWith, ctx),
  },
  Model: {
    sharedWith: (m, _a, ctx) => labsById(m.sharedWith, ctx),
  },
  Run: {
    sharedWith: (r, _a, ctx) => labsById(r.sharedWith, ctx),
  },
  VisibilityChange: {
    sharedWith: (v, _a, ctx) => labsById(v.sharedWith, ctx),
  },
};
