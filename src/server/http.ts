// A plain Node HTTP server: GraphQL at /graphql, health at /healthz, and the artifact store's own
// routes (signed uploads and downloads in the embedded profile). No framework needed for three routes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap } from '@apollo/server';
import type { Viewer } from '../access/viewer';
import type { Services } from '../services';
import { startChangeFeed, type ChangeFeed } from '../db/change-feed';
import { createContext } from '../resolvers/context';
import { jsonLog, type Log } from '../log';
import { admit, type Refusal } from './admission';
import { createDashboardHandler } from './dashboard';
import { serveSiteBundle } from '../sites/http-route';
import { createApollo } from './graphql';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limit';
import { ResponseCache } from './response-cache';
import { TokenCache } from '../auth/token-cache';

export type { RouteHandler } from './route';
import type { RouteHandler } from './route';

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ApiOptions {
  host?: string;
  port?: number;
  /** Largest GraphQL request body accepted, in bytes. */
  maxRequestBytes?: number;
  routes?: RouteHandler[];
  /** The database the API reads; enables the leaderboard response cache (its change feed). */
  databaseUrl?: string;
  /** Where refused requests are logged (who, which limit). */
  log?: Log;
  /** Default: in Redis when REDIS_URL is set (shared by API replicas), else in memory. */
  limiter?: RateLimiter;
}

export async function startApi(services: Services, options: ApiOptions = {}): Promise<ApiServer> {
  const limits = services.config.limits;
  const log = options.log ?? jsonLog(services.config.logLevel, { component: 'api' });
  const apollo = createApollo(undefined, { limits, refusals: log });
  await apollo.start();
  const maxBytes = options.maxRequestBytes ?? limits.maxRequestBytes;
  const limiter =
    options.limiter ?? (services.config.redisUrl ? new RedisRateLimiter(services.config.redisUrl, services.config.queuePrefix) : new MemoryRateLimiter());
  const routes = options.routes ?? [];
  // The lab dashboard (web/dist) at /dashboard/; it talks to /graphql like any other client.
  const dashboard = createDashboardHandler();
  const feed: ChangeFeed | null = options.databaseUrl ? await startChangeFeed(options.databaseUrl, (m) => log('warn', m)) : null;
  const cache = feed ? new ResponseCache(feed) : null;
  const tokens = feed ? new TokenCache(feed) : undefined;

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname === '/healthz') {
        const health = await checkHealth(services);
        return sendJson(res, health.ok ? 200 : 503, health);
      }
      for (const route of routes) if (await route(req, res)) return;
      if (await dashboard(req, res)) return;
      // This site's signed public bundle, pulled by other sites (src/sites).
      if (await serveSiteBundle(services, req, res, url.pathname)) return;
      if (url.pathname === '/') {
        res.writeHead(302, { location: '/graphql' }).end();
        return;
      }
      if (url.pathname !== '/graphql') return sendJson(res, 404, { error: `No route ${url.pathname}; GraphQL is at /graphql` });
      const viewer = await admit(req, services, limiter, limits, log, tokens);
      const body = req.method === 'POST' ? await readJsonBody(req, maxBytes) : undefined;
      const cacheKey = cache?.keyFor(viewerKey(viewer), body) ?? null;
      const hit = cacheKey ? await cache!.get(cacheKey) : undefined;
      if (hit) {
        res.writeHead(200, { ...hit.headers, 'x-cache': 'hit' }).end(hit.body);
        return;
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers))
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      const context = { ...createContext(services, viewer), changes: feed ?? undefined };
      const version = cache?.version ?? 0;
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => context,
      });
      for (const [key, value] of result.headers) res.setHeader(key, value);
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        if (cacheKey && res.statusCode === 200) cache!.set(cacheKey, version, result.body.string, Object.fromEntries(result.headers));
        res.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (err) {
      const e = err as Partial<Refusal>;
      if (e.status && e.body) {
        const refused = e.body.errors?.[0]?.extensions;
        if (refused?.code === 'PAYLOAD_TOO_LARGE') log('warn', 'request refused', { ...refused, ip: req.socket.remoteAddress });
        req.resume();
        return sendJson(res, e.status, e.body, e.headers);
      }
      console.error(err);
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal error', extensions: { code: 'INTERNAL' } }] });
      else res.destroy();
    }
  });
  // Uploads stream through the embedded store's route; no server-wide request timeout for them.
  server.requestTimeout = 0;
  // Longer than clients' and load balancers' idle timeouts, so the server is never the side that
  // closes an idle keep-alive connection while a client reuses it (ECONNRESET); in the embedded
  // profile a long numeric step can also delay the event loop past Node's 5 s default.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${options.host && options.host !== '0.0.0.0' ? options.host : 'localhost'}:${port}/graphql`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await apollo.stop();
      await limiter.close();
      await feed?.close();
    },
  };
}

export interface Health {
  /** Ready to serve: every dependency answered. */
  ok: boolean;
  version: string;
  checks: Record<'postgres' | 'redis', { ok: boolean; ms?: number; error?: string; note?: string }>;
}

/**
 * /healthz: whether PostgreSQL and the job queue's Redis answer, each within QUEUE_TIMEOUT_MS.
 * 503 with the failing check named when one does not, so load balancers and compose stop sending
 * traffic to an API that cannot store runs or queue them.
 */
export async function checkHealth(services: Services): Promise<Health> {
  const ms = services.config.queueTimeoutMs;
  const probe = async (op: () => Promise<unknown>) => {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = op();
      work.catch(() => undefined);
      await Promise.race([work, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]);
      return { ok: true, ms: Date.now() - started };
    } catch (err) {
      return { ok: false, error: `unreachable: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  };
  const queue = services.queue;
  const [postgres, redis] = await Promise.all([
    probe(() => services.db.$queryRaw`SELECT 1`),
    queue.ping ? probe(() => queue.ping!()) : Promise.resolve({ ok: true, note: 'not used: runs execute in this process' }),
  ]);
  return { ok: postgres.ok && redis.ok, version: services.version, checks: { postgres, redis } };
}

/** Viewers with the same access get the same answers. */
function viewerKey(viewer: Viewer): string {
  if (viewer.superuser) return '*';
  return [...viewer.roles].map(([lab, role]) => `${lab}:${role}`).sort().join(',');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readJsonBody(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () => ({
    status: 413,
    body: {
      errors: [
        {
          message: `The request body exceeds the limit of ${maxBytes} bytes; upload large data as artifacts (createArtifactUpload)`,
          extensions: { code: 'PAYLOAD_TOO_LARGE', limit: maxBytes },
        },
      ],
    },
  });
  if (declared > maxBytes) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw { status: 400, body: { errors: [{ message: `The request body is not valid JSON: ${(err as Error).message}`, extensions: { code: 'BAD_REQUEST' } }] } };
  }
}
