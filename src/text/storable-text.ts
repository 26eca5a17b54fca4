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

/** Where inside `value` text sits that PostgreSQL cannot store, and why; undefined when none. */
export interface UnstorableText {
  /** `field`, or a path below it: `field.key[3]`. */
  field: string;
  reason: string;
}

/**
 * The first string in `value` PostgreSQL cannot store. Strings inside arrays and plain objects
 * (parsed JSON, YAML, manifests, bundles) are searched too, object keys included; anything else
 * (numbers, dates, typed arrays) is not text and passes.
 */
export function findUnstorableText(value: unknown, field: string): UnstorableText | undefined {
  if (typeof value === 'string') {
    const reason = unstorableTextReason(value);
    return reason ? { field, reason } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${field}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      const path = field ? `${field}.${key}` : key;
      const reason = unstorableTextReason(key);
      if (reason) return { field: field || '(top level)', reason: `has a key that ${reason}` };
      const found = findUnstorableText(inner, path);
      if (found) return found;
    }
  }
  return undefined;
}

/** Refuses text PostgreSQL cannot store anywhere in `value`, as BAD_USER_INPUT naming its path. Returns `value`. */
export function checkStorableText<T>(value: T, field: string): T {
  const found = findUnstorableText(value, field);
  if (found) throw badInput(`${found.field} ${found.reason}; remove or replace it`, found.field);
  return value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
