// Text PostgreSQL can store. Its text and jsonb types refuse U+0000 (error 22021/22P05, which
// would surface as an internal error), and a lone UTF-16 surrogate has no UTF-8 form at all: the
// driver would silently store U+FFFD instead of what the scientist typed. Every way text enters
// the service (GraphQL arguments, CLI manifests, VQA benchmark and answers files, site bundles)
// checks it here, so such input is refused up front with the field that holds it.
import { badInput } from '../errors';

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot be stored as PostgreSQL text, or undefined when it can. */
export function unstorableTextReason(value: string): string | undefined {
  const match = UNSTORABLE.exec(value);
  if (!match) return undefined;
  const code = match[0].charCodeAt(0);
  const what = code === 0 ? 'a NUL character (U+0000)' : `a lone surrogate (U+${code.toString(16).toUpperCase()})`;
  return `contains ${what} at position ${match.index}, which cannot be stored as text`;
}

/**
 * Refuses text PostgreSQL cannot store, as BAD_USER_INPUT naming `field`. Strings inside arrays
 * and plain objects (parsed JSON, YAML, manifests) are checked too, object keys included, and
 * named by their path (`field.key[3]`). Anything else passes untouched. Returns `value`.
 */
export function checkStorableText<T>(value: T, field: string): T {
  walk(value, field);
  return value;
}

function walk(value: unknown, field: string): void {
  if (typeof value === 'string') {
    const reason = unstorableTextReason(value);
    if (reason) throw badInput(`${field} ${reason}; remove or replace it`, field);
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], `${field}[${i}]`);
    return;
  }
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      const reason = unstorableTextReason(key);
      if (reason) throw badInput(`a key in ${field} ${reason}; remove or replace it`, field);
      walk(inner, `${field}.${key}`);
    }
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
