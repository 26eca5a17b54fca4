// Remembers what a presented API token resolved to, so a busy client (a dashboard, a leaderboard
// poller) does not cost a token lookup per request. An entry is valid only while the change feed
// (src/db/change-feed.ts) reports no committed change since it was read: triggers on ApiToken
// (revocation, expiry, secret), User and LabMembership notify it, so a revoked token or a removed
// membership takes effect for the next request exactly as without the cache. Expiry is checked
// against the clock on every use. Refusals are never cached.
import type { ChangeFeed } from '../db/change-feed';
import type { Db } from '../db/client';
import type { Viewer } from '../access/viewer';
import { authenticate, resolveToken } from './authenticate';

interface Entry {
  version: number;
  viewer: Viewer;
  expiresAt: Date | null;
  /** When lastUsedAt was last brought up to date for this token (authenticate does it per minute). */
  touchedAt: number;
}

const TOUCH_INTERVAL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly feed: ChangeFeed) {}

  async authenticate(db: Db, header: string | undefined, operatorLabId: string): Promise<Viewer> {
    if (header === undefined || header.trim() === '' || !this.feed.live) return authenticate(db, header, operatorLabId);
    await this.feed.sync();
    const now = Date.now();
    const hit = this.entries.get(header);
    if (hit && hit.version === this.feed.version && this.feed.live && (!hit.expiresAt || hit.expiresAt.getTime() > now)) {
      if (now - hit.touchedAt > TOUCH_INTERVAL_MS && hit.viewer.tokenId) {
        hit.touchedAt = now;
        void db.apiToken.update({ where: { id: hit.viewer.tokenId }, data: { lastUsedAt: new Date(now) } }).catch(() => undefined);
      }
      return hit.viewer;
    }
    const version = this.feed.version;
    const { viewer, expiresAt } = await resolveToken(db, header, operatorLabId, new Date(now));
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(header, { version, viewer, expiresAt, touchedAt: now });
    return viewer;
  }
}
