// A process-local version number of the data leaderboards show, advanced by PostgreSQL itself:
// triggers on the tables a leaderboard reads (migration 20261128213400_change_feed) NOTIFY
// `brainalign_data_changed` when a writing transaction commits, whichever process wrote. Caches
// keyed by this version are never stale by more than the notification's delivery time, and
// a hit costs one round trip on the listening connection, shared by every request waiting at the
// same moment (`sync`). While the listening connection is down the feed is not `live` and callers
// must not trust the version (every reconnect advances it: anything may have changed meanwhile).
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

export const CHANGE_CHANNEL = 'brainalign_data_changed';

export interface ChangeFeed {
  /** Distinguishes feeds (databases) sharing one process, e.g. two sites in a test. */
  readonly id: string;
  /** Advances on every committed change to leaderboard data. */
  readonly version: number;
  /** False until LISTEN is in place and whenever the connection is lost. */
  readonly live: boolean;
  /**
   * Resolves once every change committed before the call has advanced `version`: PostgreSQL
   * delivers pending notifications before answering a query on the listening connection.
   * Concurrent callers share round trips.
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export async function startChangeFeed(databaseUrl: string, log: (msg: string) => void = () => {}): Promise<ChangeFeed> {
  let version = 0;
  let live = false;
  let closed = false;
  let client: Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  // The barrier in flight, and the one queued behind it for callers that arrived after it left.
  let inFlight: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const barrier = (): Promise<void> => {
    const c = client;
    if (!c || !live) return Promise.resolve();
    return c.query('SELECT 1').then(
      () => undefined,
      () => undefined,
    );
  };
  const sync = (): Promise<void> => {
    if (!inFlight) {
      inFlight = barrier().finally(() => {
        inFlight = null;
      });
      return inFlight;
    }
    if (!queued) {
      queued = inFlight.then(() => {
        queued = null;
        return sync();
      });
    }
    return queued;
  };

  let failures = 0;
  const scheduleReconnect = () => {
    if (closed || retry) return;
    const delay = Math.min(30_000, 500 * 2 ** failures++);
    retry = setTimeout(() => {
      retry = null;
      connect().then(
        () => log('change feed reconnected; leaderboard response cache resumed'),
        () => scheduleReconnect(),
      );
    }, delay);
    // A feed waiting to reconnect must not keep a finished process alive.
    retry.unref();
  };

  const connect = async (): Promise<void> => {
    const c = new Client({ connectionString: databaseUrl });
    c.on('notification', () => {
      version++;
    });
    const lost = (why: string) => {
      if (client !== c) return;
      live = false;
      client = null;
      c.end().catch(() => {});
      if (closed) return;
      if (failures === 0) log(`change feed lost (${why}); leaderboard response cache paused until it reconnects`);
      scheduleReconnect();
    };
    c.on('error', (err) => lost(err.message));
    c.on('end', () => lost('connection ended'));
    client = c;
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      if (client === c) client = null;
      c.end().catch(() => {});
      throw err;
    }
    failures = 0;
    version++;
    live = !closed;
  };

  try {
    await connect();
  } catch (err) {
    log(`change feed unavailable (${(err as Error).message}); responses are not cached until it connects`);
    scheduleReconnect();
  }
  return {
    id: randomUUID(),
    get version() {
      return version;
    },
    get live() {
      return live;
    },
    sync,
    async close() {
      closed = true;
      live = false;
      if (retry) clearTimeout(retry);
      const c = client as Client | null;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
