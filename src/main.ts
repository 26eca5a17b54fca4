// The API process entry (`npm start`). With no configuration it runs the embedded profile:
// PostgreSQL from npm, artifacts under ./.data, jobs in-process, a demo catalog on first start.
import { startService } from './app';
import { ConfigError, loadConfig } from './config';
import { SiteKeySecretError } from './sites/key-envelope';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const started = Date.now();
  const service = await startService(config);
  const { url } = service.api;
  const publicGraphql = `${config.publicUrl}/graphql`;
  // The embedded default is a single-user install: its operator token is printed so the first
  // request works; in production the operator supplied the token and it stays out of the logs.
  const token = config.profile === 'embedded' ? service.operatorToken : undefined;
  const auth = token ? ` -H 'authorization: Bearer ${token}'` : '';
  console.log(
    [
      '',
      `BrainAlign ${service.services.version} (${config.profile} profile) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  GraphQL:  ${publicGraphql}`,
      `  Dashboard: ${config.publicUrl}/dashboard/${token ? `#token=${token}` : ''}`,
      config.profile === 'embedded' ? `  Data:     ${config.dataDir}` : '',
      token ? `  Operator token (kept in ${config.dataDir}/admin-token, 0600): ${token}` : '',
      token ? `    send it as the header 'Authorization: Bearer <token>'; without it a client is anonymous and sees public objects only` : '',
      `  Try:      curl -s ${publicGraphql}${auth} -H 'content-type: application/json' -d '{"query":"{ me { operator } datasets { edges { node { name subjects { name } } } } }"}'`,
      '  Stop:     Ctrl-C',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
  void url;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Production: whatever PostgreSQL and Redis do, the process is gone within SHUTDOWN_TIMEOUT_MS.
    // Embedded: it owns its PostgreSQL and runs jobs in-process, so it waits for the running step
    // to hand its run back and for PostgreSQL to stop (cutting that short would orphan the server).
    const limit = config.profile === 'production' ? config.shutdownTimeoutMs : undefined;
    console.log(`\n${signal}: stopping (finishing database writes, closing connections${limit ? `; at most ${limit / 1000} s` : ''}) ...`);
    if (limit) {
      const deadline = setTimeout(() => {
        console.error(`stopping took longer than ${limit / 1000} s (SHUTDOWN_TIMEOUT_MS); exiting with connections still open`);
        process.exit(1);
      }, limit);
      deadline.unref();
    }
    await service.close();
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  // Configuration and key-secret problems are the operator's to fix: the message says how.
  const known = err instanceof ConfigError || err instanceof SiteKeySecretError;
  console.error(`BrainAlign failed to start: ${known ? err.message : err instanceof Error ? err.stack : err}`);
  process.exit(1);
});
