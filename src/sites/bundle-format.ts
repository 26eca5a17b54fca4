// The signed leaderboard bundle one site gives another. A bundle is
//
//   { "bundleId": sha256 hex of C, "signature": base64 Ed25519 signature of C, "content": {...} }
//
// where C is the canonical JSON (./canonical-json, RFC 8785) of `content`. `content` holds the
// site's name, public key and URL, when it was signed, which benchmarks were selected (null: all),
// and one entry per public run with its scores and provenance, optionally with the run's small
// result arrays as base64 .npy. Benchmarks are identified by name and kind, the way the
// receiving site matches them to its own.
import { z } from 'zod';

export const BUNDLE_FORMAT = 'brainalign-site-bundle/1';

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const isoDate = z.iso.datetime({ offset: true });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case sha256 hex digest');

const bundleArray = z.strictObject({
  sha256,
  size: z.number().int().nonnegative(),
  /** Base64 of the .npy bytes; absent when the array was over the size cap or not requested. */
  npy: z.string().optional(),
});

const bundleScore = z.strictObject({
  metric: z.string().min(1).max(200),
  scope: z.string().max(400),
  value: finite,
  ciLow: finite.nullable(),
  ciHigh: finite.nullable(),
  normalized: finite.nullable(),
  n: z.number().int().nullable(),
  createdAt: isoDate,
});

const bundleRun = z.strictObject({
  id: z.string().min(1).max(100),
  kind: z.string().min(1).max(100),
  benchmark: z.strictObject({ name: z.string().min(1).max(200), kind: z.string().min(1).max(100), metric: z.string(), higherIsBetter: z.boolean() }),
  model: z.strictObject({ name: z.string(), family: z.string() }).nullable(),
  subject: z.strictObject({ name: z.string(), dataset: z.string() }).nullable(),
  /** Input artifact hashes, code version, execution provider, timings, as the origin recorded them. */
  provenance: z.record(z.string(), z.unknown()),
  finishedAt: isoDate.nullable(),
  scores: z.array(bundleScore),
  arrays: z.record(z.string(), bundleArray),
});

export const bundleContentSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  site: z.strictObject({ name: z.string().min(1).max(63), publicKey: z.string(), url: z.string() }),
  createdAt: isoDate,
  /** Benchmark names the export was restricted to; null when it carries every public score. */
  benchmarks: z.array(z.string()).nullable(),
  runs: z.array(bundleRun),
});

export const signedBundleSchema = z.strictObject({
  bundleId: sha256,
  signature: z.string().min(1),
  content: bundleContentSchema,
});

export type BundleContent = z.infer<typeof bundleContentSchema>;
export type BundleRun = z.infer<typeof bundleRun>;
export type BundleScore = z.infer<typeof bundleScore>;
export type BundleArray = z.infer<typeof bundleArray>;
export type SignedBundle = z.infer<typeof signedBundleSchema>;
