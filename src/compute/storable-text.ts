// Text PostgreSQL can store: the pure check, here so that src/compute (VQA files) can use it
// without importing from outside itself; src/text/storable-text.ts adds the GraphQL refusal.
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

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
