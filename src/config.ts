// All configuration comes from environment variables, validated once at start-up so a wrong value
// fails fast with the variable's name and what it expects.
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number({ error: 'expected a port number' }).int().min(1).max(65535);
const positiveInt = z.coerce.number({ error: 'expected a positive integer' }).int().positive();

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
    ONNX_EXECUTION_PROVIDER: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    WORKER_CONCURRENCY: positiveInt.default(1),
    WORKER_KINDS: z
      .string()
      .regex(/^\s*[A-Z_]+(\s*,\s*[A-Z_]+)*\s*$/, 'expected a comma-separated list of run kinds such as IMPORT_RESPONSES,ENCODING_RIDGE')
      .optional(),
    RUN_ATTEMPTS: positiveInt.default(3),
    STALLED_INTERVAL_MS: positiveInt.default(30000),
    RECONCILE_INTERVAL_MS: positiveInt.default(60000),
    SEED_DEMO: bool.default(true),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.BRAINALIGN_PROFILE !== 'production') return;
    const need = ['DATABASE_URL', 'REDIS_URL', 'UPLOAD_SECRET'] as const;
    for (const key of need)
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required in the production profile' });
    if ((env.ARTIFACT_STORE ?? 's3') === 's3')
      for (const key of ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const)
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when ARTIFACT_STORE=s3' });
  });

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
  uploadPartSize: number;
  maxUploadBytes: number;
  executionProvider: 'auto' | 'cpu' | 'cuda';
  workerConcurrency: number;
  /** Run kinds this worker consumes; undefined: every kind it has a handler for. */
  workerKinds?: string[];
  runAttempts: number;
  stalledIntervalMs: number;
  reconcileIntervalMs: number;
  seedDemo: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends Error {}

/** Reads and checks the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      const got = env[key] === undefined ? 'unset' : JSON.stringify(env[key]);
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
    uploadPartSize: e.UPLOAD_PART_SIZE_MB * 1024 * 1024,
    maxUploadBytes: e.MAX_UPLOAD_GB * 1024 ** 3,
    executionProvider: e.ONNX_EXECUTION_PROVIDER,
    workerConcurrency: e.WORKER_CONCURRENCY,
    workerKinds: e.WORKER_KINDS?.split(',').map((k) => k.trim()),
    runAttempts: e.RUN_ATTEMPTS,
    stalledIntervalMs: e.STALLED_INTERVAL_MS,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    seedDemo: e.SEED_DEMO,
    logLevel: e.LOG_LEVEL,
  };
}
