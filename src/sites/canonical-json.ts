// The bytes a bundle's signature and id cover. Canonical JSON as RFC 8785 (JCS) defines it:
// object keys sorted by UTF-16 code units at every level, no whitespace, strings and numbers
// serialised as ECMAScript's JSON.stringify does (shortest round-trip form). Any JSON parser and
// re-serialiser that follows RFC 8785 reproduces the same bytes, so a bundle survives transport
// (GraphQL variables, files, HTTP) as long as its values do.

/** Throws on values JSON cannot carry (NaN, Infinity, undefined, functions, bigint). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot carry ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    if (value instanceof Date) return JSON.stringify(value.toISOString());
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot carry a ${typeof value}`);
}
