// Line-numbered records from the two text formats labs exchange benchmark and answer files in:
// JSONL (one object per line) and CSV (RFC 4180, header row, quoted fields may span lines).
// Nothing here knows what a field means; ./benchmark-file and ./answers-file check the fields.
import { findUnstorableText } from '../storable-text';

export type TextFormat = 'jsonl' | 'csv';

/** One problem of one line (1-based); the import and the scorer report all of them at once. */
export interface LineError {
  line: number;
  reason: string;
}

export interface RawRecord {
  /** The line the record starts on (1-based, counting the CSV header). */
  line: number;
  /** Keys folded by fieldKey: lower case without _ - or spaces, so question_id = questionId. */
  fields: Record<string, unknown>;
}

export interface ParsedRecords {
  records: RawRecord[];
  errors: LineError[];
}

export const fieldKey = (name: string) => name.trim().toLowerCase().replace(/[\s_-]+/g, '');

/**
 * Byte offset of the first byte that is not well-formed UTF-8 (overlongs, surrogates and code
 * points above U+10FFFF included, as the WHATWG decoder), or -1 when the whole buffer is valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return i;
      const c = bytes[i + k];
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** The format a file name says, else a sniff of its first non-blank character. */
export function detectFormat(filename: string, bytes: Uint8Array): TextFormat {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  for (const b of bytes.subarray(0, 4096)) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b === 0x7b ? 'jsonl' : 'csv';
  }
  return 'jsonl';
}

/**
 * Decodes and splits a file into records. Invalid UTF-8 is the one error that stops parsing:
 * past a bad byte no line number can be trusted, so it is reported alone.
 */
export function parseRecords(bytes: Uint8Array, format: TextFormat): ParsedRecords {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    let line = 1;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) line++;
    return { records: [], errors: [{ line, reason: `file is not UTF-8 at byte ${bad}` }] };
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM is allowed, not part of the data
  return refuseUnstorable(format === 'jsonl' ? parseJsonl(text) : parseCsv(text));
}

/** A record holding text PostgreSQL cannot store (a NUL, a lone surrogate) is a line error, naming the field. */
function refuseUnstorable(parsed: ParsedRecords): ParsedRecords {
  const records: RawRecord[] = [];
  for (const rec of parsed.records) {
    const found = findUnstorableText(rec.fields, '');
    if (found) parsed.errors.push({ line: rec.line, reason: `${found.field} ${found.reason}` });
    else records.push(rec);
  }
  return { records, errors: parsed.errors };
}

function parseJsonl(text: string): ParsedRecords {
  const records: RawRecord[] = [];
  const errors: LineError[] = [];
  text.split('\n').forEach((raw, i) => {
    const body = raw.trim();
    if (!body) return;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      errors.push({ line: i + 1, reason: `not valid JSON (${(err as Error).message})` });
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      errors.push({ line: i + 1, reason: 'not a JSON object' });
      return;
    }
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) fields[fieldKey(k)] = v;
    records.push({ line: i + 1, fields });
  });
  return { records, errors };
}

/** RFC 4180 rows with the line each starts on; quotes may hold commas, quotes ("") and newlines. */
export function csvRows(text: string): { rows: { line: number; cells: string[] }[]; unterminated?: number } {
  const rows: { line: number; cells: string[] }[] = [];
  let line = 1;
  let start = 1;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let quoteLine = 0;
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0].trim() !== '') rows.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell.trim() === '') {
      cell = '';
      quoted = true;
      quoteLine = line;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n') {
      endRow();
      line++;
      start = line;
    } else if (c !== '\r') cell += c;
  }
  if (quoted) return { rows, unterminated: quoteLine };
  if (cell !== '' || cells.length) endRow();
  return { rows };
}

function parseCsv(text: string): ParsedRecords {
  const { rows, unterminated } = csvRows(text);
  const errors: LineError[] = [];
  if (unterminated) errors.push({ line: unterminated, reason: 'a quoted field is never closed' });
  if (!rows.length) return { records: [], errors: errors.length ? errors : [{ line: 1, reason: 'the file is empty (a header row is required)' }] };
  const [header, ...body] = rows;
  const keys = header.cells.map(fieldKey);
  const records: RawRecord[] = [];
  for (const row of body) {
    if (row.cells.length !== keys.length) {
      errors.push({ line: row.line, reason: `${row.cells.length} fields where the header has ${keys.length}` });
      continue;
    }
    const fields: Record<string, unknown> = {};
    // An empty cell stays '' so checks can tell "empty category" from a missing column.
    keys.forEach((k, j) => (fields[k] = row.cells[j].trim()));
    records.push({ line: row.line, fields });
  }
  return { records, errors };
}
