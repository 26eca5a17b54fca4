import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Resolvers } from '../generated/graphql';
import { accessResolvers } from './access';
import { artifactResolvers } from './artifacts';
import { brainMapResolvers } from './brain-maps';
import { brainSpaceResolvers } from './brain-space';
import { catalogResolvers } from './catalog';
import { causalResolvers } from './causal';
import { encodingResolvers } from './encoding';
import { featureResolvers } from './features';
import { inContextResolvers } from './in-context';
import { layerSweepResolvers } from './layer-sweep';
import { rsaResolvers } from './rsa';
import { leaderboardResolvers } from './leaderboards';
import { runResolvers } from './runs';
import { runTitleResolvers } from './run-title';
import { responseSessionResolvers } from './response-sessions';
import { siteResolvers } from './sites';
import { stimulusImageResolvers } from './stimulus-images';
import { vqaResolvers } from './vqa';
import { BigInt_, DateTime, JSON as JSONScalar } from './scalars';

const SCHEMA_DIR = path.resolve(__dirname, '../schema');

export function loadTypeDefs(): string {
  return readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort((a, b) => (a === 'common.graphql' ? -1 : b === 'common.graphql' ? 1 : a.localeCompare(b)))
    .map((f) => readFileSync(path.join(SCHEMA_DIR, f), 'utf8'))
    .join('\n');
}

function merge(...parts: Resolvers[]): Resolvers {
  const out: Record<string, Record<string, unknown>> = {};
  for (const part of parts)
    for (const [type, fields] of Object.entries(part)) out[type] = { ...(out[type] ?? {}), ...(fields as object) };
  return out as Resolvers;
}

export const resolvers: Resolvers = merge(
  { DateTime, JSON: JSONScalar, BigInt: BigInt_ } as Resolvers,
  {
    Query: {
      serviceInfo: async (_p, _a, ctx) => ({
        version: ctx.services.version,
        profile: ctx.services.config.profile,
        defaultLab: await ctx.loaders.lab.load(ctx.services.defaultLabId),
      }),
    },
  },
  catalogResolvers,
  responseSessionResolvers,
  accessResolvers,
  artifactResolvers,
  runResolvers,
  runTitleResolvers,
  encodingResolvers,
  causalResolvers,
  inContextResolvers,
  leaderboardResolvers,
  vqaResolvers,
  siteResolvers,
  stimulusImageResolvers,
  featureResolvers,
  layerSweepResolvers,
  rsaResolvers,
  brainSpaceResolvers,
  brainMapResolvers,
);
