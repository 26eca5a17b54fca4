// Whole-response cache for read-only leaderboard queries. A leaderboard is read far more often
// than its scores change, and most of a request's cost is GraphQL execution and serialisation of
// rows that did not change. Entries are keyed by who asks (their effective access) and the exact
// request body, and are valid only for the change-feed version they were computed at, so a new
// score, run, benchmark or model invalidates every cached board: a request never sees an answer
// older than a transaction committed before it arrived (see src/db/change-feed.ts). Only operations made entirely of the fields below are
// cached; anything else (mutations, catalog queries, runs with live progress) always executes.
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { ChangeFeed } from '../db/change-feed';

/** Top-level query fields whose answer depends only on the viewer, the arguments and the data. */
export const CACHEABLE_FIELDS = new Set(['leaderboard', 'benchmarks', 'benchmark', '__typename']);

interface Entry {
  version: number;
  storedAt: number;
  body: string;
  headers: Record<string, string>;
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly shapes = new Map<string, boolean>();
  private bytes = 0;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly maxBytes = 32 * 1024 * 1024,
    /** Bounds the life of anything time-dependent in an answer (e.g. signed download URLs). */
    private readonly maxAgeMs = 60_000,
  ) {}

  /** The cache key for this request, or null when it must execute. */
  keyFor(viewerKey: string, body: unknown): string | null {
    if (!this.feed.live || !body || typeof body !== 'object') return null;
    const { query, variables, operationName } = body as { query?: unknown; variables?: unknown; operationName?: unknown };
    if (typeof query !== 'string' || !this.isCacheable(query, typeof operationName === 'string' ? operationName : undefined)) return null;
    return `${viewerKey}\u0000${operationName ?? ''}\u0000${query}\u0000${JSON.stringify(variables ?? {})}`;
  }

  /** The entry for `key` if nothing it depends on changed before this call. */
  async get(key: string): Promise<Entry | undefined> {
    if (!this.entries.has(key)) return undefined;
    await this.feed.sync();
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.version !== this.feed.version || !this.feed.live || Date.now() - entry.storedAt > this.maxAgeMs) {
      this.drop(key, entry);
      return undefined;
    }
    return entry;
  }

  /** Stores a successful answer computed at `version` (read before execution started). */
  set(key: string, version: number, body: string, headers: Record<string, string>): void {
    if (version !== this.feed.version || body.length > this.maxBytes / 8 || body.includes('"errors"')) return;
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    this.entries.set(key, { version, storedAt: Date.now(), body, headers });
    this.bytes += body.length;
    // Oldest first; entries of earlier versions are dead anyway.
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(k, e);
    }
  }

  get version(): number {
    return this.feed.version;
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.body.length;
  }

  private isCacheable(query: string, operationName: string | undefined): boolean {
    const known = this.shapes.get(query);
    if (known !== undefined) return known;
    let verdict = false;
    try {
      verdict = onlyCacheableFields(parse(query), operationName);
    } catch {
      verdict = false; // let GraphQL report the syntax error
    }
    if (this.shapes.size > 1000) this.shapes.clear();
    this.shapes.set(query, verdict);
    return verdict;
  }
}

function onlyCacheableFields(doc: DocumentNode, operationName: string | undefined): boolean {
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? ops.find((o) => o.name?.value === operationName) : ops.length === 1 ? ops[0] : undefined;
  if (!op || op.operation !== 'query') return false;
  return op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && CACHEABLE_FIELDS.has(s.name.value));
}
