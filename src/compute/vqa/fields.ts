// Reading typed fields out of raw records, with the reason when a field is unusable.
import type { LineError, RawRecord } from './records';

/** A required text field; numbers are accepted as text (question ids are often numeric). */
export function textField(rec: RawRecord, key: string, label: string, errors: LineError[]): string | undefined {
  const v = rec.fields[key];
  if (v === undefined || v === null) {
    errors.push({ line: rec.line, reason: `missing field ${label}` });
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number') {
    errors.push({ line: rec.line, reason: `${label} must be text, not ${Array.isArray(v) ? 'a list' : typeof v}` });
    return undefined;
  }
  const s = String(v).trim();
  if (!s) {
    errors.push({ line: rec.line, reason: `empty ${label}` });
    return undefined;
  }
  return s;
}

/** The first key present among aliases (stimulus_id or image_id). */
export function firstKey(rec: RawRecord, keys: string[]): string {
  return keys.find((k) => rec.fields[k] !== undefined) ?? keys[0];
}

/**
 * A list of text: a JSON array, or in CSV one cell with items separated by "|". Items are
 * trimmed and empty ones dropped. Returns undefined (with an error) when the value is unusable.
 */
export function listField(rec: RawRecord, key: string, label: string, errors: LineError[]): string[] | undefined {
  const v = rec.fields[key];
  if (v === undefined || v === null) return [];
  const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split('|') : [v];
  if (items.some((x) => typeof x !== 'string' && typeof x !== 'number')) {
    errors.push({ line: rec.line, reason: `${label} must be a list of text` });
    return undefined;
  }
  return items.map((x) => String(x).trim()).filter(Boolean);
}
