/**
 * The `.npy` header: the preamble (magic, version, header length), the Python-literal dict
 * ({'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }) and the check that the data
 * length matches. Every rejection names what is wrong and the byte offset in the file.
 *
 * Format reference: numpy/lib/format.py (NEP 1). Layout:
 *   bytes 0-5   magic "\x93NUMPY"
 *   bytes 6-7   version major, minor (1.0, 2.0, 3.0)
 *   bytes 8-9   header length, uint16 LE (v1) | bytes 8-11 uint32 LE (v2, v3)
 *   then        the dict, latin-1 (v1, v2) or UTF-8 (v3), space-padded, ending in '\n'
 *   then        the data, C or Fortran order, dataOffset = preamble + header length
 */
import { NpyFormatError } from './errors';
import { parseDescr, resolveDtype, SUPPORTED_DESCRS, type NpyDtype } from './npy-dtype';

export const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export interface NpyHeader {
  version: { major: 1 | 2 | 3; minor: 0 };
  dtype: NpyDtype;
  /** True when the data is column-major (Fortran order: the first axis varies fastest). */
  fortranOrder: boolean;
  /** Array shape, outermost axis first; [] for a 0-d (scalar) array. */
  shape: number[];
  /** Byte offset of the first data byte (preamble + header dict incl. padding). */
  dataOffset: number;
  /** Number of elements: product of shape (1 for 0-d). */
  elementCount: number;
  /** Expected data length in bytes: elementCount * itemSize. */
  dataBytes: number;
}

/** "(10000, 2000)" as numpy prints shapes. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Reads the fixed preamble. Returns undefined when `prefix` is too short to tell (a streaming
 * reader then waits for more bytes), otherwise the version and where the data starts.
 */
export function parseNpyPreamble(
  prefix: Uint8Array,
): { major: 1 | 2 | 3; headerLength: number; headerStart: number; dataOffset: number } | undefined {
  const magicLen = Math.min(prefix.length, NPY_MAGIC.length);
  for (let i = 0; i < magicLen; i++) {
    if (prefix[i] !== NPY_MAGIC[i]) {
      const found = prefix.subarray(0, NPY_MAGIC.length);
      const zip = prefix[0] === 0x50 && prefix[1] === 0x4b ? ' (this looks like a zip archive: an .npz?)' : '';
      throw new NpyFormatError(
        `bad magic at byte ${i}: an .npy file starts with 93 4e 55 4d 50 59 ("\\x93NUMPY"), found ${hexBytes(found)}${zip}`,
        i,
      );
    }
  }
  if (prefix.length < 8) return undefined;
  const major = prefix[6];
  const minor = prefix[7];
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw new NpyFormatError(`unsupported .npy format version ${major}.${minor} at byte 6 (supported: 1.0, 2.0, 3.0)`, 6);
  }
  const headerStart = major === 1 ? 10 : 12;
  if (prefix.length < headerStart) return undefined;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  return { major, headerLength, headerStart, dataOffset: headerStart + headerLength };
}

/**
 * Parses the header of an `.npy` file.
 *
 * @param buf the file, or at least its first `dataOffset` bytes.
 * @param opts.fileSize total file size in bytes used for the data-length check; defaults to
 *   `buf.length` (buf is the whole file). `null` skips the check (streaming, size unknown).
 */
export function parseNpyHeader(buf: Uint8Array, opts: { fileSize?: number | null } = {}): NpyHeader {
  const fileSize = opts.fileSize === undefined ? buf.length : opts.fileSize;
  const pre = parseNpyPreamble(buf);
  if (!pre) {
    const need = buf.length < 8 || buf[6] === 1 ? 10 : 12;
    throw new NpyFormatError(
      `truncated preamble: the file has ${fileSize ?? buf.length} bytes, the .npy preamble needs ${buf.length < 8 ? 'at least ' : ''}${need}`,
      buf.length,
    );
  }
  const { major, headerLength, headerStart, dataOffset } = pre;
  if (fileSize !== null && dataOffset > fileSize) {
    throw new NpyFormatError(
      `header length ${headerLength} at byte 8 runs past the end of the file: ` +
        `the header would end at byte ${dataOffset}, the file has ${fileSize} bytes`,
      8,
    );
  }
  if (dataOffset > buf.length) {
    throw new NpyFormatError(
      `header length ${headerLength} at byte 8 needs the first ${dataOffset} bytes, only ${buf.length} were given`,
      8,
    );
  }
  const raw = buf.subarray(headerStart, dataOffset);
  const text = major === 3 ? new TextDecoder('utf-8', { fatal: false }).decode(raw) : Buffer.from(raw).toString('latin1');
  // Byte offset in the file of a character index in `text` (differs from index only in UTF-8).
  const at = (index: number) =>
    headerStart + (major === 3 ? Buffer.byteLength(text.slice(0, index), 'utf8') : index);

  const dict = new PyLiteralParser(text, at).parseTop();
  if (!(dict instanceof PyDict)) {
    throw new NpyFormatError(`unparsable header dictionary at byte ${headerStart}: the header is not a dict literal`, headerStart);
  }
  const keys = [...dict.entries.keys()].sort();
  const want = ['descr', 'fortran_order', 'shape'];
  const missing = want.filter((k) => !dict.entries.has(k));
  const extra = keys.filter((k) => !want.includes(k));
  if (missing.length || extra.length) {
    throw new NpyFormatError(
      `header dictionary at byte ${headerStart} must have exactly the keys 'descr', 'fortran_order', 'shape'` +
        (missing.length ? `; missing ${missing.map((k) => `'${k}'`).join(', ')}` : '') +
        (extra.length ? `; unexpected ${extra.map((k) => `'${k}'`).join(', ')}` : ''),
      headerStart,
    );
  }
  const descrEntry = dict.entries.get('descr')!;
  if (typeof descrEntry.value !== 'string') {
    const what = descrEntry.value instanceof PyList ? 'a list (structured dtypes are not supported)' : describe(descrEntry.value);
    throw new NpyFormatError(`unsupported descr at byte ${at(descrEntry.index)}: expected a string like '<f4', found ${what}`, at(descrEntry.index));
  }
  const dtype = parseDescr(descrEntry.value);
  if (!dtype) {
    throw new NpyFormatError(
      `unknown descr '${descrEntry.value}' at byte ${at(descrEntry.index)} (supported: ${SUPPORTED_DESCRS.join(', ')})`,
      at(descrEntry.index),
    );
  }
  const fortranEntry = dict.entries.get('fortran_order')!;
  if (typeof fortranEntry.value !== 'boolean') {
    throw new NpyFormatError(
      `'fortran_order' at byte ${at(fortranEntry.index)} must be True or False, found ${describe(fortranEntry.value)}`,
      at(fortranEntry.index),
    );
  }
  const shapeEntry = dict.entries.get('shape')!;
  const shapeValue = shapeEntry.value;
  if (!(shapeValue instanceof PyTuple) || !shapeValue.items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyFormatError(
      `'shape' at byte ${at(shapeEntry.index)} must be a tuple of non-negative integers, found ${describe(shapeValue)}`,
      at(shapeEntry.index),
    );
  }
  const shape = shapeValue.items as number[];
  const elementCount = shape.reduce((a, b) => a * b, 1);
  const dataBytes = elementCount * dtype.itemSize;
  if (!Number.isSafeInteger(dataBytes)) {
    throw new NpyFormatError(`shape ${formatShape(shape)} at byte ${at(shapeEntry.index)} is too large to address`, at(shapeEntry.index));
  }
  if (fileSize !== null && fileSize - dataOffset !== dataBytes) {
    throw new NpyFormatError(
      `expected ${dataBytes} data bytes for shape ${formatShape(shape)} ${dtype.descr}, found ${fileSize - dataOffset} ` +
        `(data starts at byte ${dataOffset})`,
      dataOffset,
    );
  }
  return {
    version: { major, minor: 0 },
    dtype,
    fortranOrder: fortranEntry.value,
    shape: [...shape],
    dataOffset,
    elementCount,
    dataBytes,
  };
}

/** The message used by every data-length check, so whole-file and streaming reads agree. */
export function dataLengthMessage(header: NpyHeader, found: number): string {
  return (
    `expected ${header.dataBytes} data bytes for shape ${formatShape(header.shape)} ${header.dtype.descr}, found ${found} ` +
    `(data starts at byte ${header.dataOffset})`
  );
}

/**
 * Builds preamble + header dict for an array, padded with spaces and a final '\n' so that the
 * data starts on a 64-byte boundary, formatted as numpy >= 1.24 writes it (including the spare
 * space numpy leaves to let the leading axis grow in place). Version 1.0 unless the header needs
 * more than 65535 bytes (2.0); 3.0 only when asked for.
 */
export function formatNpyHeader(opts: {
  dtype: string | NpyDtype;
  shape: readonly number[];
  fortranOrder?: boolean;
  version?: 1 | 2 | 3;
}): Buffer {
  const dtype = resolveDtype(opts.dtype);
  const fortran = opts.fortranOrder ?? false;
  for (const d of opts.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`shape ${JSON.stringify(opts.shape)} must hold non-negative integers`);
  }
  let dict = `{'descr': '${dtype.descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${formatShape(opts.shape)}, }`;
  if (opts.shape.length > 0) {
    const growAxis = opts.shape[fortran ? opts.shape.length - 1 : 0];
    dict += ' '.repeat(Math.max(0, 21 - String(growAxis).length));
  }
  const encode = (major: 1 | 2 | 3) => {
    const headerStart = major === 1 ? 10 : 12;
    const body = Buffer.from(dict, major === 3 ? 'utf8' : 'latin1');
    const total = Math.ceil((headerStart + body.length + 1) / 64) * 64;
    if (major === 1 && total - headerStart > 0xffff) return undefined;
    const out = Buffer.alloc(total, 0x20);
    NPY_MAGIC.copy(out, 0);
    out[6] = major;
    out[7] = 0;
    if (major === 1) out.writeUInt16LE(total - headerStart, 8);
    else out.writeUInt32LE(total - headerStart, 8);
    body.copy(out, headerStart);
    out[total - 1] = 0x0a;
    return out;
  };
  const out = encode(opts.version ?? 1) ?? (opts.version ? undefined : encode(2));
  if (!out) throw new RangeError(`a header for shape of rank ${opts.shape.length} does not fit format version 1.0; use 2.0`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// A minimal parser for the Python literals numpy writes: dict, tuple, list, str, int, bool, None.

class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
class PyList {
  constructor(readonly items: PyValue[]) {}
}
class PyDict {
  /** key -> value and the character index where the value starts. */
  constructor(readonly entries: Map<string, { value: PyValue; index: number }>) {}
}
type PyValue = string | number | boolean | null | PyTuple | PyList | PyDict;

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (v instanceof PyTuple) return `(${v.items.map(describe).join(', ')}${v.items.length === 1 ? ',' : ''})`;
  if (v instanceof PyList) return `[${v.items.map(describe).join(', ')}]`;
  return 'a dict';
}

class PyLiteralParser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly at: (index: number) => number,
  ) {}

  parseTop(): PyValue {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail(`unexpected ${this.show()} after the dictionary`);
    return v;
  }

  private fail(what: string): never {
    const offset = this.at(this.i);
    throw new NpyFormatError(`unparsable header dictionary at byte ${offset}: ${what}`, offset);
  }

  private show(): string {
    if (this.i >= this.s.length) return 'end of header';
    return JSON.stringify(this.s.slice(this.i, this.i + 12));
  }

  private ws() {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private expect(ch: string, context: string) {
    this.ws();
    if (this.s[this.i] !== ch) this.fail(`expected '${ch}' ${context}, found ${this.show()}`);
    this.i++;
  }

  private value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.dict();
    if (c === '(') return this.seq(')', 'tuple');
    if (c === '[') return this.seq(']', 'list');
    if (c === "'" || c === '"') return this.str();
    if (c !== undefined && /[-+0-9]/.test(c)) return this.int();
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.s.startsWith(word, this.i) && !/\w/.test(this.s[this.i + word.length] ?? '')) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(`expected a value, found ${this.show()}`);
  }

  private dict(): PyDict {
    this.i++; // {
    const entries = new Map<string, { value: PyValue; index: number }>();
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return new PyDict(entries);
      }
      const keyStart = this.i;
      const key = this.value();
      if (typeof key !== 'string') {
        this.i = keyStart;
        this.fail(`dictionary keys must be strings, found ${this.show()}`);
      }
      if (entries.has(key)) {
        this.i = keyStart;
        this.fail(`duplicate key '${key}'`);
      }
      this.expect(':', `after key '${key}'`);
      this.ws();
      const index = this.i;
      entries.set(key, { value: this.value(), index });
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail(`expected ',' or '}' after the value of '${key}', found ${this.show()}`);
    }
  }

  private seq(close: ')' | ']', kind: 'tuple' | 'list'): PyTuple | PyList {
    this.i++; // ( or [
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        // `(3)` is an int in Python, not a tuple; only `(3,)` is a 1-tuple.
        if (kind === 'tuple' && items.length === 1 && !sawComma) return items[0] as PyTuple;
        return kind === 'tuple' ? new PyTuple(items) : new PyList(items);
      }
      items.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        sawComma = true;
      } else if (this.s[this.i] !== close) {
        this.fail(`expected ',' or '${close}' in ${kind}, found ${this.show()}`);
      }
    }
  }

  private str(): string {
    const quote = this.s[this.i++];
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== quote) {
      if (this.s[this.i] === '\\') {
        const next = this.s[this.i + 1];
        out += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
        this.i += 2;
      } else {
        out += this.s[this.i++];
      }
    }
    if (this.i >= this.s.length) this.fail('unterminated string');
    this.i++;
    return out;
  }

  private int(): number {
    const m = /^[-+]?\d+L?/.exec(this.s.slice(this.i, this.i + 40)); // 'L': Python 2 longs, e.g. (3L, 4L)
    if (!m || /[.eE]/.test(this.s[this.i + m[0].length] ?? '')) this.fail(`expected an integer, found ${this.show()}`);
    const n = Number(m[0].replace('L', ''));
    if (!Number.isSafeInteger(n)) this.fail(`integer ${m[0]} is too large`);
    this.i += m[0].length;
    return n;
  }
}
