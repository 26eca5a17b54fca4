// All configuration comes from environment variables, validated once at start-up so a wrong value
// fails fast with the variable's name and what it expects.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number({ error: 'expected a port number' }).int().min(1).max(65535);
const positiveInt = z.coerce.number({ error: 'expected a positive integer' }).int().positive();

/** The shortest secrets production accepts (MinIO itself wants at least 8 for its root password). */
export const MIN_SECRET_LENGTH = { UPLOAD_SECRET: 24, S3_SECRET_KEY: 16, DATABASE_PASSWORD: 16 } as const;
/** Values shipped in examples and image defaults; a deployment that still has one is unprotected. */
const KNOWN_PLACEHOLDERS = new Set(['brainalign', 'brainalign-secret', 'minioadmin', 'minio', 'postgres', 'password', 'secret', 'admin', 'root', 'test', 'default']);
const PLACEHOLDER_WORDS = /change[-_ .]?me|replace[-_ .]?me|placeholder|your[-_ .]|example|xxxx|<.*>|^\$\{/i;
/** Variables whose values never appear in error messages. */
const SECRET_VARIABLES = new Set(['UPLOAD_SECRET', 'S3_SECRET_KEY', 'S3_ACCESS_KEY', 'DATABASE_URL', 'BRAINALIGN_ADMIN_TOKEN']);

/** Why a credential is unfit for a deployment (a placeholder, too short, one repeated character), or undefined. */
export function weakSecret(value: string, minLength: number): string | undefined {
  if (KNOWN_PLACEHOLDERS.has(value.toLowerCase()) || PLACEHOLDER_WORDS.test(value)) return 'is a placeholder; generate one (openssl rand -hex 32)';
  if (value.length < minLength) return `is ${value.length} characters; use at least ${minLength} (openssl rand -hex 32)`;
  if (new Set(value).size < 4) return 'repeats too few characters to be secret; generate one (openssl rand -hex 32)';
  return undefined;
}

/** The password inside a postgresql:// URL, when it has one. */
function databasePassword(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

const schema = z
  .object({
    BRAINALIGN_PROFILE: z.enum(['embedded', 'production']).default('embedded'),
    HOST: z.string().default('0.0.0.0'),
    PORT: port.default(4000),
    PUBLIC_URL: z.url({ error: 'expected an absolute URL such as http://localhost:4000' }).optional(),
    DATA_DIR: z.string().default(path.resolve(process.cwd(), '.data')),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected postgresql://user@host:port/db').optional(),
    EMBEDDED_PG_PORT: port.default(54329),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://host:port').optional(),
    QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, _ or -').default('brainalign'),
    ARTIFACT_STORE: z.enum(['fs', 's3']).optional(),
    S3_ENDPOINT: z.string().optional(),
    S3_PORT: port.optional(),
    S3_USE_SSL: bool.default(false),
    S3_ACCESS_KEY: z.string().optional(),
    S3_SECRET_KEY: z.string().optional(),
    S3_BUCKET: z.string().default('brainalign'),
    S3_REGION: z.string().default('us-east-1'),
    UPLOAD_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
    UPLOAD_PART_SIZE_MB: positiveInt.default(64),
    MAX_UPLOAD_GB: positiveInt.default(64),
    UPLOAD_SWEEP_MINUTES: positiveInt.default(15),
    ONNX_EXECUTION_PROVIDER: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    ONNX_THREADS: z.coerce.number({ error: 'expected a whole number of threads (0: from the cores)' }).int().min(0).max(1024).default(0),
    WORKER_CONCURRENCY: positiveInt.default(1),
    WORKER_MEMORY_MB: positiveInt.default(4096),
    WORKER_KINDS: z
      .string()
      .regex(/^\s*[A-Z_]+(\s*,\s*[A-Z_]+)*\s*$/, 'expected a comma-separated list of run kinds such as IMPORT_RESPONSES,ENCODING_RIDGE')
      .optional(),
    RUN_ATTEMPTS: positiveInt.default(3),
    LOCK_DURATION_MS: positiveInt.default(30000),
    STALLED_INTERVAL_MS: positiveInt.default(5000),
    PROGRESS_INTERVAL_MS: z.coerce.number({ error: 'expected a whole number of milliseconds' }).int().min(0).default(500),
    WORKER_CRASH_RETRIES: z.coerce.number({ error: 'expected a whole number' }).int().min(0).max(1000).default(5),
    WORKER_REDIS_TIMEOUT_MS: positiveInt.default(60000),
    RECONCILE_INTERVAL_MS: positiveInt.default(60000),
    QUEUE_TIMEOUT_MS: positiveInt.default(2000),
    SHUTDOWN_TIMEOUT_MS: positiveInt.default(10000),
    SEED_DEMO: bool.default(true),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    BRAINALIGN_ADMIN_TOKEN: z
      .string()
      .regex(
        /^ba_[0-9a-f]{12}_[A-Za-z0-9_-]{32,128}$/,
        "expected ba_<12 hex>_<32-128 of A-Za-z0-9_->; make one with node -e \"const c=require('crypto');console.log('ba_'+c.randomBytes(6).toString('hex')+'_'+c.randomBytes(32).toString('base64url'))\"",
      )
      .optional(),
    QUERY_MAX_DEPTH: positiveInt.default(12),
    QUERY_MAX_FIELDS: positiveInt.default(2000),
    QUERY_MAX_COST: positiveInt.default(100000),
    RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: positiveInt.default(60),
    MAX_REQUEST_MB: positiveInt.default(16),
    TRUST_PROXY: bool.default(false),
    SITE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'expected 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit')
      .default('local'),
    SITE_URL: z.url({ error: 'expected an absolute URL other sites reach this one at, such as https://brainalign.example.org' }).optional(),
    SITE_KEY_FILE: z.string().optional(),
    SITE_KEY_SECRET: z.string().min(32, 'expected at least 32 characters (e.g. openssl rand -base64 32)').optional(),
    /** Production only: accept weak credentials, for test rigs whose S3 emulator has fixed keys. */
    ALLOW_WEAK_CREDENTIALS: bool.default(false),
  })
  .superRefine((env, ctx) => {
    if (env.BRAINALIGN_PROFILE !== 'production') return;
    const need = ['DATABASE_URL', 'REDIS_URL', 'UPLOAD_SECRET'] as const;
    for (const key of need)
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required in the production profile' });
    if ((env.ARTIFACT_STORE ?? 's3') === 's3')
      for (const key of ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const)
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when ARTIFACT_STORE=s3' });
    if (env.ALLOW_WEAK_CREDENTIALS) return;
    // Placeholders and short secrets would leave a deployment open while looking configured.
    const weak = (key: string, value: string | undefined, min: number, what = key) => {
      const problem = value ? weakSecret(value, min) : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: `${what} ${problem}` });
    };
    weak('UPLOAD_SECRET', env.UPLOAD_SECRET, MIN_SECRET_LENGTH.UPLOAD_SECRET);
    if (env.DATABASE_URL) weak('DATABASE_URL', databasePassword(env.DATABASE_URL), MIN_SECRET_LENGTH.DATABASE_PASSWORD, 'the PostgreSQL password in DATABASE_URL');
    if ((env.ARTIFACT_STORE ?? 's3') === 's3') {
      weak('S3_SECRET_KEY', env.S3_SECRET_KEY, MIN_SECRET_LENGTH.S3_SECRET_KEY);
      const access = env.S3_ACCESS_KEY;
      if (access && (access.toLowerCase() === 'minioadmin' || PLACEHOLDER_WORDS.test(access)))
        ctx.addIssue({ code: 'custom', path: ['S3_ACCESS_KEY'], message: 'S3_ACCESS_KEY is a placeholder; choose the MinIO user yourself' });
    }
  })
  .superRefine((env, ctx) => {
    // A lock shorter than the stall check would be found missing between two renewals of a
    // healthy worker as soon as the event loop is a little late.
    if (env.LOCK_DURATION_MS < 2 * env.STALLED_INTERVAL_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['LOCK_DURATION_MS'],
        message: `must be at least twice STALLED_INTERVAL_MS (${env.STALLED_INTERVAL_MS}); a healthy worker renews its locks every LOCK_DURATION_MS / 4`,
      });
  })
  .superRefine((env, ctx) => {
    if (!env.SITE_KEY_FILE) return;
    const problem = siteKeyProblem(env.SITE_KEY_FILE);
    if (problem) ctx.addIssue({ code: 'custom', path: ['SITE_KEY_FILE'], message: problem });
  });

/** Why a mounted site key cannot sign bundles, or undefined when it can. */
function siteKeyProblem(file: string): string | undefined {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read the site key file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') return `expected an Ed25519 private key, found ${key.asymmetricKeyType}`;
  } catch {
    return 'expected a PEM-encoded Ed25519 private key (openssl genpkey -algorithm ed25519)';
  }
  return undefined;
}

export type Env = z.infer<typeof schema>;

export interface Config {
  profile: 'embedded' | 'production';
  host: string;
  port: number;
  publicUrl: string;
  dataDir: string;
  /** Undefined in the embedded profile until its PostgreSQL has started. */
  databaseUrl?: string;
  embeddedPgPort: number;
  redisUrl?: string;
  queuePrefix: string;
  artifactStore: 'fs' | 's3';
  s3: { endPoint: string; port?: number; useSSL: boolean; accessKey: string; secretKey: string; bucket: string; region: string };
  uploadSecret: string;
  /** Production with ALLOW_WEAK_CREDENTIALS: placeholder and short credentials were not refused. */
  allowWeakCredentials: boolean;
  uploadPartSize: number;
  maxUploadBytes: number;
  /** How often the API removes what interrupted or abandoned uploads left in the store (also at start-up). */
  uploadSweepMs: number;
  executionProvider: 'auto' | 'cpu' | 'cuda';
  /** ONNX Runtime intra-op threads of the shared engine; 0: the host's cores over WORKER_CONCURRENCY. */
  onnxThreads: number;
  workerConcurrency: number;
  /** Memory one worker process may use; run parameters that scale memory are bounded by it (src/domain/run-budget.ts). */
  workerMemoryBytes: number;
  /** Run kinds this worker consumes; undefined: every kind it has a handler for. */
  workerKinds?: string[];
  runAttempts: number;
  /**
   * How long a worker's claim on a running job lasts without renewal (renewed every quarter of
   * it). A killed worker's job is taken up again about this long after the kill, plus up to one
   * stall interval.
   */
  lockDurationMs: number;
  /** How often every worker looks for jobs whose lock expired (their worker died). */
  stalledIntervalMs: number;
  /** Least time between a run's progress writes to PostgreSQL (0: every report; each write is also a cancel check). */
  progressIntervalMs: number;
  /**
   * Times a run may lose its worker (process killed, host lost) and be taken up again; crashes
   * are counted apart from RUN_ATTEMPTS, which bounds the run's own errors.
   */
  workerCrashRetries: number;
  /** A worker that cannot reach Redis for this long says so and exits non-zero. */
  workerRedisTimeoutMs: number;
  reconcileIntervalMs: number;
  /** How long a queue operation (and a health check) waits for Redis before answering UNAVAILABLE. */
  queueTimeoutMs: number;
  /** SIGTERM: the process exits within this, whatever PostgreSQL and Redis do. */
  shutdownTimeoutMs: number;
  seedDemo: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Secret of the operator token (production); the embedded profile keeps one in dataDir. */
  adminToken?: string;
  /** Public-endpoint protection: query shape and cost, request rate (per token, per IP when anonymous), body size. */
  limits: {
    maxDepth: number;
    maxFields: number;
    maxCost: number;
    requestsPerMinute: number;
    anonymousRequestsPerMinute: number;
    maxRequestBytes: number;
    /** Behind a load balancer: take the client address from X-Forwarded-For (its first entry). */
    trustProxy: boolean;
  };
  /** This deployment's identity towards other sites (signed leaderboard bundles). */
  site: {
    name: string;
    /** Where other sites reach this one; its public bundle is at <url>/sites/bundle. */
    url: string;
    /** A mounted Ed25519 private key (PEM); otherwise one is generated and kept, encrypted, in the artifact store. */
    keyFile?: string;
    /** Encrypts the stored private key (AES-256-GCM); required by the production API unless keyFile is set. */
    keySecret?: string;
  };
}

export class ConfigError extends Error {}

/** Reads and checks the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (compose's `${X:-}`) means "not set", so its default applies.
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      const value = env[key];
      const got = value === undefined ? 'unset' : SECRET_VARIABLES.has(key) ? `${value.length} characters, not shown` : JSON.stringify(value);
      return `  ${key}: ${i.message} (got ${got})`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT}`;
  return {
    profile: e.BRAINALIGN_PROFILE,
    host: e.HOST,
    port: e.PORT,
    publicUrl: publicUrl.replace(/\/$/, ''),
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    artifactStore: e.ARTIFACT_STORE ?? (e.BRAINALIGN_PROFILE === 'production' ? 's3' : 'fs'),
    s3: {
      endPoint: e.S3_ENDPOINT ?? 'localhost',
      port: e.S3_PORT,
      useSSL: e.S3_USE_SSL,
      accessKey: e.S3_ACCESS_KEY ?? '',
      secretKey: e.S3_SECRET_KEY ?? '',
      bucket: e.S3_BUCKET,
      region: e.S3_REGION,
    },
    // The embedded profile signs its own upload URLs; a per-install secret is derived at start.
    uploadSecret: e.UPLOAD_SECRET ?? '',
    allowWeakCredentials: e.BRAINALIGN_PROFILE === 'production' && e.ALLOW_WEAK_CREDENTIALS,
    uploadPartSize: e.UPLOAD_PART_SIZE_MB * 1024 * 1024,
    maxUploadBytes: e.MAX_UPLOAD_GB * 1024 ** 3,
    uploadSweepMs: e.UPLOAD_SWEEP_MINUTES * 60_000,
    executionProvider: e.ONNX_EXECUTION_PROVIDER,
    onnxThreads: e.ONNX_THREADS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    workerMemoryBytes: e.WORKER_MEMORY_MB * 1024 * 1024,
    workerKinds: e.WORKER_KINDS?.split(',').map((k) => k.trim()),
    runAttempts: e.RUN_ATTEMPTS,
    lockDurationMs: e.LOCK_DURATION_MS,
    stalledIntervalMs: e.STALLED_INTERVAL_MS,
    progressIntervalMs: e.PROGRESS_INTERVAL_MS,
    workerCrashRetries: e.WORKER_CRASH_RETRIES,
    workerRedisTimeoutMs: e.WORKER_REDIS_TIMEOUT_MS,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    queueTimeoutMs: e.QUEUE_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    seedDemo: e.SEED_DEMO,
    logLevel: e.LOG_LEVEL,
    adminToken: e.BRAINALIGN_ADMIN_TOKEN,
    limits: {
      maxDepth: e.QUERY_MAX_DEPTH,
      maxFields: e.QUERY_MAX_FIELDS,
      maxCost: e.QUERY_MAX_COST,
      requestsPerMinute: e.RATE_LIMIT_PER_MINUTE,
      anonymousRequestsPerMinute: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      maxRequestBytes: e.MAX_REQUEST_MB * 1024 * 1024,
      trustProxy: e.TRUST_PROXY,
    },
    site: { name: e.SITE_NAME, url: (e.SITE_URL ?? publicUrl).replace(/\/$/, ''), keyFile: e.SITE_KEY_FILE, keySecret: e.SITE_KEY_SECRET },
  };
}
