// Runs the command line in-process against a test API, capturing its output.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ApiClient } from '../../src/cli/client';
import { main } from '../../src/cli/main';
import { ensureOperatorToken } from '../../src/auth/operator';
import { newTokenSecret } from '../../src/auth/tokens';
import type { TestApi } from '../helpers/api';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json: any;
}

export interface CliHarness {
  dir: string;
  /** A GraphQL request with the harness's token; throws on errors. */
  gql(query: string, variables?: Record<string, unknown>): Promise<any>;
  env: Record<string, string>;
  run(args: string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<CliResult>;
  /** Removes the harness's directory (config, upload state, files the test wrote). */
  remove(): void;
}

/** A config directory of its own, the API's URL and an operator token (the API's own, when it has one). */
export async function cliHarness(api: TestApi): Promise<CliHarness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ba-cli-'));
  const token = (api as { token?: string }).token ?? (await ensureOperatorToken(api.db, { token: newTokenSecret().token }));
  const env: Record<string, string> = {
    BRAINALIGN_CONFIG: path.join(dir, 'config', 'config.json'),
    BRAINALIGN_URL: api.url,
    ...(token ? { BRAINALIGN_TOKEN: token } : {}),
  };
  const client = new ApiClient({ url: api.url, ...(token ? { token } : {}) });
  return {
    dir,
    env,
    gql: (query, variables) => client.request(query, variables),
    remove: () => rmSync(dir, { recursive: true, force: true }),
    async run(args, options = {}) {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on('data', (c) => out.push(c));
      stderr.on('data', (c) => err.push(c));
      const code = await main(args, { stdout, stderr, env: { ...env, ...options.env }, cwd: options.cwd ?? dir });
      const text = Buffer.concat(out).toString('utf8');
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { code, stdout: text, stderr: Buffer.concat(err).toString('utf8'), json };
    },
  };
}
