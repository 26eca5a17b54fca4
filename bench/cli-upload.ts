// Uploads a float32 .npy (default 1 GiB) with the `brainalign` command, as its own process,
// against an API process with the filesystem store: multipart (64 MiB parts), hashed while
// streamed. Reports the time against a plain file copy of the same bytes and the CLI's peak
// RSS, which stays flat whatever the file size (nothing is held whole).
//
//   npm run bench -- cli-upload [--mb 1024]
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { newTokenSecret } from '../src/auth/tokens';
import { dropDatabase, ensureDatabase } from '../src/db/migrate';
import { formatNpyHeader } from '../src/storage';
import { freePort } from '../tests/helpers/ports';
import { ROOT, startTs, stop, waitForLine } from './support/processes';

async function writeArray(file: string, mb: number): Promise<void> {
  const cols = 262_144; // 1 MiB rows
  const out = createWriteStream(file);
  out.write(formatNpyHeader({ dtype: '<f4', shape: [mb, cols] }));
  const row = new Float32Array(cols);
  for (let r = 0; r < mb; r++) {
    for (let c = 0; c < cols; c += 997) row[c] = r + c;
    if (!out.write(Buffer.from(row.buffer.slice(0)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function timedCli(args: string[], env: Record<string, string>): Promise<{ seconds: number; peakRssMb: number; stdout: string }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    // GNU time's %M: the command's peak resident set in KiB.
    execFile('/usr/bin/time', ['-f', 'peak_kb=%M', process.execPath, path.join(ROOT, 'bin/brainalign.mjs'), ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const kb = Number(/peak_kb=(\d+)/.exec(stderr)?.[1]);
      resolve({ seconds: (performance.now() - t) / 1000, peakRssMb: Math.round(kb / 1024), stdout });
    });
  });
}

export async function main(args: string[]): Promise<void> {
  const i = args.indexOf('--mb');
  const mb = i >= 0 ? Number(args[i + 1]) : 1024;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ba-bench-cli-'));
  const file = path.join(dir, 'betas.npy');
  await writeArray(file, mb);
  const pgServer = 'postgresql://postgres@127.0.0.1:5432/postgres';
  const dbName = `ba_bench_cli_${Date.now().toString(36)}`;
  const port = await freePort();
  const token = newTokenSecret().token;
  await ensureDatabase(pgServer, dbName);
  const api = startTs('src/main.ts', {
    BRAINALIGN_PROFILE: 'production',
    ARTIFACT_STORE: 'fs',
    DATA_DIR: path.join(dir, 'data'),
    DATABASE_URL: pgServer.replace(/postgres$/, dbName),
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: dbName,
    UPLOAD_SECRET: 'bench-upload-secret-0123456789',
    SITE_KEY_SECRET: 'bench-site-key-secret-0123456789abcdef',
    BRAINALIGN_ADMIN_TOKEN: token,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
  });
  try {
    await waitForLine(api, (l) => l.includes('GraphQL:'));
    let t = performance.now();
    copyFileSync(file, path.join(dir, 'copy.npy'));
    const copySeconds = (performance.now() - t) / 1000;
    rmSync(path.join(dir, 'copy.npy'));
    const env = { BRAINALIGN_URL: `http://127.0.0.1:${port}`, BRAINALIGN_TOKEN: token, BRAINALIGN_CONFIG: path.join(dir, 'cli', 'config.json') };
    const up = await timedCli(['upload', file, '--json'], env);
    const artifact = JSON.parse(up.stdout).artifacts[0];
    console.log(
      JSON.stringify({
        bench: 'cli-upload',
        file_mb: Math.round(statSync(file).size / 2 ** 20),
        parts: artifact.uploadedParts,
        cli_seconds: +up.seconds.toFixed(2),
        mb_per_second: +(statSync(file).size / 2 ** 20 / up.seconds).toFixed(1),
        file_copy_seconds: +copySeconds.toFixed(2),
        cli_peak_rss_mb: up.peakRssMb,
      }),
    );
  } finally {
    await stop(api);
    await dropDatabase(pgServer, dbName).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
