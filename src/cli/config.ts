// Where the API is and which token to send: a small JSON file (0600), overridden by environment.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EXIT, CliError } from './exit-codes';
import type { CliIo, GlobalOptions } from './io';

export interface CliConfig {
  /** GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  token?: string;
}

export const DEFAULT_URL = 'http://localhost:4000/graphql';

export function configPath(env: CliIo['env']): string {
  if (env.BRAINALIGN_CONFIG) return path.resolve(env.BRAINALIGN_CONFIG);
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'brainalign', 'config.json');
}

/** Directory for resumable-upload state and converted files, beside the config file. */
export function stateDir(env: CliIo['env']): string {
  return path.join(path.dirname(configPath(env)), 'uploads');
}

/** Accepts a server root or its /graphql endpoint. */
export function normaliseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`--url ${JSON.stringify(url)} is not a URL; expected e.g. http://127.0.0.1:4000`, EXIT.USAGE);
  }
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/graphql';
  return u.toString();
}

export async function readConfigFile(env: CliIo['env']): Promise<Partial<CliConfig>> {
  try {
    return JSON.parse(await readFile(configPath(env), 'utf8')) as Partial<CliConfig>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`Cannot read ${configPath(env)}: ${(err as Error).message}; run brainalign login again`, EXIT.USAGE);
  }
}

/** Command-line options first, then BRAINALIGN_URL / BRAINALIGN_TOKEN, then the config file. */
export async function resolveConfig(io: CliIo, opts: GlobalOptions): Promise<CliConfig> {
  const file = await readConfigFile(io.env);
  // An empty variable counts as unset, as shells make it easy to export one.
  const url = opts.url || io.env.BRAINALIGN_URL || file.url || DEFAULT_URL;
  const token = opts.token || io.env.BRAINALIGN_TOKEN || file.token;
  return { url: normaliseUrl(url), ...(token ? { token } : {}) };
}

export async function writeConfigFile(env: CliIo['env'], config: CliConfig): Promise<string> {
  const file = configPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // The token is a secret: the file is readable by its owner only.
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
