// Per-client request rate limits as token buckets: a client may burst up to its per-minute
// allowance, then gets one request per (60 / allowance) seconds. In memory for a single API
// process (the embedded profile); in Redis when API replicas share the allowance (production),
// falling back to each process's own buckets while Redis is unreachable, so an outage never
// lifts the limits (at most one allowance per replica until Redis is back).
import Redis from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until one request is allowed again (0 when allowed). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  take(key: string, perMinute: number): Promise<RateDecision>;
  close(): Promise<void>;
}

const retryAfter = (missing: number, perMs: number) => Math.max(1, Math.ceil(missing / perMs / 1000));

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  async take(key: string, perMinute: number): Promise<RateDecision> {
    const now = this.now();
    const perMs = perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * perMs);
    b.at = now;
    // Re-inserting keeps the map in least-recently-used order, so eviction drops idle clients.
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: retryAfter(1 - b.tokens, perMs) };
  }

  async close(): Promise<void> {}
}

// One round trip, atomic, on Redis's clock (API replicas' clocks may differ).
const TAKE = `
local cap = tonumber(ARGV[1])
local perMs = cap / 60000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
tokens = math.min(cap, tokens + (now - at) * perMs)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 61000)
return { ok, tostring(tokens) }`;

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly local = new MemoryRateLimiter();
  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    // A request waits at most a second for Redis; then the local buckets decide (see take).
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('takeToken', { numberOfKeys: 1, lua: TAKE });
  }

  async take(key: string, perMinute: number): Promise<RateDecision> {
    // Known to be down (it was up, or a first connection failed): no wait for a timeout.
    if (this.redis.status === 'reconnecting' || this.redis.status === 'end') return this.local.take(key, perMinute);
    let ok: number;
    let left: string;
    try {
      [ok, left] = (await (this.redis as any).takeToken(`${this.prefix}:rate:${key}`, perMinute)) as [number, string];
    } catch {
      return this.local.take(key, perMinute);
    }
    if (ok === 1) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: retryAfter(1 - Number(left), perMinute / 60_000) };
  }

  /** Bounded whatever the Redis state: a connection that is not up is dropped, not drained. */
  async close(): Promise<void> {
    if (this.redis.status === 'ready') await Promise.race([this.redis.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    this.redis.disconnect();
  }
}
