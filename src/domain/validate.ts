// Small input checks shared by the mutations; each names the offending field.
import { badInput } from '../errors';

export function requireName(value: string, field: string, max = 200): string {
  const name = value.trim();
  if (!name) throw badInput(`${field} must not be empty`, field);
  if (name.length > max) throw badInput(`${field} is longer than ${max} characters`, field);
  return name;
}

/** Free text beside a name (a description): optional, trimmed, at most `max` characters. */
export function optionalDescription(value: string | null | undefined, field: string, max = 10_000): string {
  const text = (value ?? '').trim();
  if (text.length > max) throw badInput(`${field} is longer than ${max} characters (got ${text.length})`, field);
  return text;
}

export function requirePositiveInt(value: number, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max)
    throw badInput(`${field} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` at most ${max}` : ''} (got ${value})`, field);
  return value;
}

export function requireUuid(value: string, field: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    throw badInput(`${field} is not a valid id (got ${JSON.stringify(value)})`, field);
  return value.toLowerCase();
}

/** Reports the first repeated value, with both positions. */
export function requireUnique(values: string[], field: string): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const prev = seen.get(v);
    if (prev !== undefined) throw badInput(`${field}[${i}] repeats ${JSON.stringify(v)} (first at ${field}[${prev}])`, `${field}[${i}]`);
    seen.set(v, i);
  });
}
