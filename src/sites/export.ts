// Builds and signs this site's bundle: the scores of public, finished runs that record their
// provenance (what anonymous visitors see on leaderboards), with the public model and subject
// names, optionally with the runs' small result arrays.
import { createHash } from 'node:crypto';
import { anonymous } from '../access/viewer';
import { readableSql, runReadableSql } from '../access/readability';
import { Prisma } from '../generated/prisma/client';
import type { Services } from '../services';
import { BUNDLE_FORMAT, type BundleArray, type BundleContent, type BundleRun, type SignedBundle } from './bundle-format';
import { canonicalJson } from './canonical-json';
import { signBytes } from './ed25519';
import type { SiteIdentity } from './identity';

export interface ExportOptions {
  /** Local benchmark ids to restrict to; all benchmarks when absent. */
  benchmarkIds?: string[] | null;
  includeArrays?: boolean | null;
}

/** Arrays above this size are listed by hash and size only; the whole bundle must fit a request. */
export const MAX_ARRAY_BYTES = 1024 * 1024;
export const MAX_ARRAYS_TOTAL_BYTES = 8 * 1024 * 1024;

export async function buildBundleContent(services: Services, identity: SiteIdentity, options: ExportOptions = {}): Promise<BundleContent> {
  const { db } = services;
  const benchmarks = options.benchmarkIds
    ? await db.benchmark.findMany({ where: { id: { in: options.benchmarkIds } }, orderBy: { name: 'asc' } })
    : null;
  const runs = await publicRuns(db, benchmarks?.map((b) => b.id) ?? null);
  let arrayBudget = MAX_ARRAYS_TOTAL_BYTES;
  const out: BundleRun[] = [];
  for (const run of runs) {
    const arrays: Record<string, BundleArray> = {};
    if (options.includeArrays) {
      const outputs = Object.entries((run.outputs ?? {}) as Record<string, string>);
      const artifacts = new Map((await db.artifact.findMany({ where: { id: { in: outputs.map(([, id]) => id) } } })).map((a) => [a.id, a]));
      for (const [name, id] of outputs) {
        const a = artifacts.get(id);
        if (!a) continue;
        const size = Number(a.size);
        const entry: BundleArray = { sha256: a.sha256, size };
        if (size <= MAX_ARRAY_BYTES && size <= arrayBudget) {
          entry.npy = (await readAll(await services.store.get(a.sha256))).toString('base64');
          arrayBudget -= size;
        }
        arrays[name] = entry;
      }
    }
    const scores = run.scores
      .filter((s) => isFiniteNumber(s.value))
      .map((s) => ({
        metric: s.metric,
        scope: s.scope,
        value: s.value as number,
        ciLow: finiteOrNull(s.ciLow),
        ciHigh: finiteOrNull(s.ciHigh),
        normalized: finiteOrNull(s.normalized),
        n: s.n,
        createdAt: utc(s.createdAt),
      }));
    if (!scores.length) continue;
    out.push({
      id: run.id,
      kind: run.kind,
      benchmark: { name: run.benchmarkName, kind: run.benchmarkKind, metric: run.benchmarkMetric, higherIsBetter: run.higherIsBetter },
      model: run.modelName !== null ? { name: run.modelName, family: run.modelFamily ?? '' } : null,
      subject: run.subjectName !== null ? { name: run.subjectName, dataset: run.datasetName ?? '' } : null,
      provenance: run.provenance,
      finishedAt: run.finishedAt ? new Date(run.finishedAt).toISOString() : null,
      scores,
      arrays,
    });
  }
  return {
    format: BUNDLE_FORMAT,
    site: { name: identity.name, publicKey: identity.publicKey, url: identity.url },
    createdAt: new Date().toISOString(),
    benchmarks: benchmarks ? benchmarks.map((b) => b.name) : null,
    runs: out,
  };
}

export function signBundle(identity: SiteIdentity, content: BundleContent): SignedBundle {
  const bytes = Buffer.from(canonicalJson(content), 'utf8');
  return { bundleId: createHash('sha256').update(bytes).digest('hex'), signature: signBytes(identity.privateKey, bytes), content };
}

interface PublicRun {
  id: string;
  kind: string;
  provenance: Record<string, unknown>;
  outputs: unknown;
  finishedAt: Date | string | null;
  benchmarkName: string;
  benchmarkKind: string;
  benchmarkMetric: string;
  higherIsBetter: boolean;
  modelName: string | null;
  modelFamily: string | null;
  subjectName: string | null;
  datasetName: string | null;
  /** Non-finite floats arrive as the strings "NaN" / "Infinity" from PostgreSQL's JSON. */
  scores: { metric: string; scope: string; value: unknown; ciLow: unknown; ciHigh: unknown; normalized: unknown; n: number | null; createdAt: string }[];
}

/**
 * Every run an anonymous visitor may read on a leaderboard, with its scores on its benchmark, in
 * one statement: the run, its model and its subject's dataset must all be public, and the run must
 * record its provenance (the rule leaderboards apply).
 */
function publicRuns(db: Services['db'], benchmarkIds: string[] | null): Promise<PublicRun[]> {
  const benchmark = benchmarkIds ? Prisma.sql`r."benchmarkId" = ANY(${benchmarkIds}::uuid[])` : Prisma.sql`r."benchmarkId" IS NOT NULL`;
  return db.$queryRaw<PublicRun[]>`
    SELECT r.id, r.kind::text AS kind, r.provenance, r.outputs, r."finishedAt",
      b.name AS "benchmarkName", b.kind::text AS "benchmarkKind", b.metric AS "benchmarkMetric", b."higherIsBetter",
      m.name AS "modelName", m.family AS "modelFamily", sj.name AS "subjectName", d.name AS "datasetName",
      COALESCE((SELECT json_agg(json_build_object('metric', s.metric, 'scope', s.scope, 'value', s.value, 'ciLow', s."ciLow",
          'ciHigh', s."ciHigh", 'normalized', s.normalized, 'n', s.n, 'createdAt', s."createdAt") ORDER BY s.metric, s.scope)
        FROM "Score" s WHERE s."runId" = r.id AND s."benchmarkId" = r."benchmarkId"), '[]'::json) AS scores
    FROM "Run" r
    JOIN "Benchmark" b ON b.id = r."benchmarkId"
    LEFT JOIN "Model" m ON m.id = r."modelId"
    LEFT JOIN "Subject" sj ON sj.id = r."subjectId"
    LEFT JOIN "Dataset" d ON d.id = sj."datasetId"
    WHERE r.status = 'SUCCEEDED' AND ${benchmark}
      AND ${runReadableSql(anonymous, 'r')}
      AND (r."modelId" IS NULL OR ${readableSql(anonymous, 'm')})
      AND (r."subjectId" IS NULL OR ${readableSql(anonymous, 'd')})
      AND jsonb_typeof(r.provenance->'codeVersion') = 'string'
      AND jsonb_typeof(r.provenance->'inputs') = 'object' AND r.provenance->'inputs' <> '{}'::jsonb
    ORDER BY r.id`;
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function finiteOrNull(x: unknown): number | null {
  return isFiniteNumber(x) ? x : null;
}

/** Score times are stored as UTC without a zone (Prisma's convention); JSON gives them bare. */
function utc(t: string): string {
  return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(t) ? t : `${t}Z`).toISOString();
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
