// Header parsing against hand-written bytes: the valid forms numpy writes, and every way a file
// can be malformed, each with its message and byte offset.
import { NpyFormatError } from '../../src/storage/errors';
import { formatNpyHeader, parseNpyHeader } from '../../src/storage/npy-header';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Builds an .npy by hand: magic, version, little-endian header length, dict, data. */
function npy(dict: string, opts: { version?: 1 | 2 | 3; data?: number; headerLength?: number } = {}): Buffer {
  const version = opts.version ?? 1;
  const body = Buffer.from(dict, version === 3 ? 'utf8' : 'latin1');
  const lenBytes = version === 1 ? 2 : 4;
  const len = opts.headerLength ?? body.length;
  const pre = Buffer.alloc(8 + lenBytes);
  Buffer.from(MAGIC).copy(pre);
  pre[6] = version;
  pre[7] = 0;
  if (version === 1) pre.writeUInt16LE(len, 8);
  else pre.writeUInt32LE(len, 8);
  return Buffer.concat([pre, body, Buffer.alloc(opts.data ?? 0)]);
}

function expectNpyError(fn: () => unknown, message: string | RegExp, offset: number) {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(NpyFormatError);
  const e = caught as NpyFormatError;
  if (typeof message === 'string') expect(e.message).toContain(message);
  else expect(e.message).toMatch(message);
  expect(e.offset).toBe(offset);
  expect(e.code).toBe('BAD_USER_INPUT');
}

const F4_2x3 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

describe('parseNpyHeader: valid headers', () => {
  test('a byte-for-byte v1.0 file as numpy writes it', () => {
    // 10-byte preamble + 118-byte header (dict, 21-space growth padding, alignment, '\n') + 24 data bytes.
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const header = Buffer.concat([Buffer.from(dict, 'latin1'), Buffer.alloc(118 - dict.length - 1, 0x20), Buffer.from('\n')]);
    const file = Buffer.concat([Buffer.from([...MAGIC, 1, 0, 118, 0]), header, Buffer.alloc(24)]);
    const h = parseNpyHeader(file);
    expect(h).toEqual({
      version: { major: 1, minor: 0 },
      dtype: { descr: '<f4', name: 'float32', itemSize: 4, littleEndian: true },
      fortranOrder: false,
      shape: [2, 3],
      dataOffset: 128,
      elementCount: 6,
      dataBytes: 24,
    });
    // The encoder writes exactly these header bytes.
    expect(formatNpyHeader({ dtype: '<f4', shape: [2, 3] })).toEqual(file.subarray(0, 128));
  });

  test.each([
    ['0-d', "{'descr': '|b1', 'fortran_order': False, 'shape': (), }", [], 1],
    ['1-d', "{'descr': '>i8', 'fortran_order': False, 'shape': (5,), }", [5], 40],
    ['empty axis', "{'descr': '<f8', 'fortran_order': True, 'shape': (0, 7), }", [0, 7], 0],
    ['rank 4', "{'descr': '<u2', 'fortran_order': False, 'shape': (1, 2, 3, 4), }", [1, 2, 3, 4], 48],
  ])('%s', (_name, dict, shape, bytes) => {
    const h = parseNpyHeader(npy(dict + '\n', { data: bytes }));
    expect(h.shape).toEqual(shape);
    expect(h.dataBytes).toBe(bytes);
  });

  test('keys in any order, double quotes, no trailing comma, extra whitespace, Python 2 longs', () => {
    const h = parseNpyHeader(npy('{ "shape" : ( 3L , 4L ) ,"fortran_order":True,  "descr":"<i2"}  \n', { data: 24 }));
    expect(h.shape).toEqual([3, 4]);
    expect(h.fortranOrder).toBe(true);
    expect(h.dtype.descr).toBe('<i2');
  });

  test('versions 2.0 (4-byte length) and 3.0 (UTF-8)', () => {
    expect(parseNpyHeader(npy(F4_2x3, { version: 2, data: 24 })).version.major).toBe(2);
    const h = parseNpyHeader(npy(F4_2x3, { version: 3, data: 24 }));
    expect(h.version.major).toBe(3);
    expect(h.dataOffset).toBe(12 + F4_2x3.length);
  });

  test('a header-only prefix with the file size (as a stream or S3 range gives)', () => {
    const file = npy(F4_2x3, { data: 24 });
    const prefix = file.subarray(0, 10 + F4_2x3.length);
    expect(parseNpyHeader(prefix, { fileSize: file.length }).shape).toEqual([2, 3]);
    expect(parseNpyHeader(prefix, { fileSize: null }).dataBytes).toBe(24);
  });
});

describe('parseNpyHeader: malformed input', () => {
  test('empty and truncated preambles', () => {
    expectNpyError(() => parseNpyHeader(Buffer.alloc(0)), 'truncated preamble: the file has 0 bytes, the .npy preamble needs at least 10', 0);
    expectNpyError(() => parseNpyHeader(Buffer.from([...MAGIC, 2, 0, 0])), 'the file has 9 bytes, the .npy preamble needs 12', 9);
  });

  test('bad magic: a zip (.npz) is recognised', () => {
    expectNpyError(
      () => parseNpyHeader(Buffer.from('PK\x03\x04 rest of a zip', 'latin1')),
      /bad magic at byte 0: .*found 50 4b 03 04 20 72 \(this looks like a zip archive: an \.npz\?\)/,
      0,
    );
  });

  test('bad magic names the first wrong byte', () => {
    expectNpyError(() => parseNpyHeader(Buffer.from([0x93, 0x4e, 0x55, 0x58, 0x50, 0x59, 1, 0, 0, 0])), 'bad magic at byte 3', 3);
  });

  test.each([
    [4, 0],
    [1, 1],
    [0, 0],
  ])('unsupported version %i.%i', (major, minor) => {
    const file = npy(F4_2x3, { data: 24 });
    file[6] = major;
    file[7] = minor;
    expectNpyError(() => parseNpyHeader(file), `unsupported .npy format version ${major}.${minor} at byte 6 (supported: 1.0, 2.0, 3.0)`, 6);
  });

  test('header length beyond the file', () => {
    expectNpyError(
      () => parseNpyHeader(npy(F4_2x3, { headerLength: 2000 })),
      `header length 2000 at byte 8 runs past the end of the file: the header would end at byte 2010, the file has ${10 + F4_2x3.length} bytes`,
      8,
    );
    expectNpyError(() => parseNpyHeader(npy(F4_2x3, { version: 2, headerLength: 0xfffffff0 })), 'header length 4294967280 at byte 8 runs past', 8);
  });

  test('header longer than the bytes given, when the file is longer', () => {
    const file = npy(F4_2x3, { data: 24 });
    expectNpyError(() => parseNpyHeader(file.subarray(0, 20), { fileSize: file.length }), `header length ${F4_2x3.length} at byte 8 needs the first ${10 + F4_2x3.length} bytes, only 20 were given`, 8);
  });

  // [name, dict, message, offset of the fault in the file]
  const HS = 10; // v1 header start
  const unparsable: Array<[string, string, string, (file: Buffer) => number]> = [
    ['not a dict', "['descr', '<f4']", 'the header is not a dict literal', () => HS],
    ['missing colon', "{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3), }", `expected ':' after key 'descr', found "'<f4', 'fort"`, (f) => f.indexOf("'<f4'")],
    ['unterminated string', "{'descr': '<f4", 'unterminated string', (f) => f.length],
    ['unquoted-quote mix', "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3) }", `expected ',' or '}' after the value of 'descr', found "fortran_orde"`, (f) => f.indexOf('fortran')],
    ['junk value', "{'descr': <f4, 'fortran_order': False, 'shape': (2, 3), }", 'expected a value, found "<f4, \'fortra"', (f) => f.indexOf('<f4,')],
    ['trailing junk', `${F4_2x3} x`, 'unexpected "x" after the dictionary', (f) => f.length - 1],
    ['unclosed dict', "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "expected ',' or '}' after the value of 'shape', found end of header", (f) => f.length],
    ['float in shape', "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3), }", 'expected an integer, found "2.0, 3), }"', (f) => f.indexOf('2.0')],
    ['non-string key', '{1: 2}', 'dictionary keys must be strings, found "1: 2}"', (f) => f.indexOf('1:')],
    ['duplicate key', "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", "duplicate key 'descr'", (f) => f.indexOf("'descr'", 12)],
  ];
  test.each(unparsable)('unparsable dict: %s', (_name, dict, message, where) => {
    const file = npy(dict);
    const offset = where(file);
    expectNpyError(() => parseNpyHeader(file), `unparsable header dictionary at byte ${offset}: ${message}`, offset);
  });

  test('byte offsets count UTF-8 bytes in a v3.0 header', () => {
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'é' 1}";
    const file = npy(dict, { version: 3 });
    const offset = file.indexOf(' 1}'); // 'é' is 2 bytes, so this differs from the character index
    expect(offset).toBe(12 + dict.indexOf(' 1}') + 1);
    expectNpyError(() => parseNpyHeader(file), `unparsable header dictionary at byte ${offset + 1}: expected ':' after key 'é'`, offset + 1);
  });

  test('missing and unexpected keys', () => {
    expectNpyError(
      () => parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': False, 'sahpe': (2,), }")),
      "must have exactly the keys 'descr', 'fortran_order', 'shape'; missing 'shape'; unexpected 'sahpe'",
      10,
    );
  });

  test.each([
    ['<c8', "unknown descr '<c8'"],
    ['<f16', "unknown descr '<f16'"],
    ['|f4', "unknown descr '|f4'"],
    ['=f4', "unknown descr '=f4'"],
    ['float32', "unknown descr 'float32'"],
    ['<U10', "unknown descr '<U10'"],
  ])('unknown descr %s', (descr, message) => {
    const file = npy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (2,), }`);
    const offset = file.indexOf(`'${descr}'`);
    expectNpyError(() => parseNpyHeader(file), `${message} at byte ${offset} (supported: |b1, |i1, |u1, <i2, >i2`, offset);
  });

  test('structured dtype (descr is a list)', () => {
    const file = npy("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (2,), }");
    const offset = file.indexOf('[(');
    expectNpyError(() => parseNpyHeader(file), `unsupported descr at byte ${offset}: expected a string like '<f4', found a list (structured dtypes are not supported)`, offset);
  });

  test('fortran_order not a bool', () => {
    const file = npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }");
    const offset = file.indexOf('0, ');
    expectNpyError(() => parseNpyHeader(file), `'fortran_order' at byte ${offset} must be True or False, found 0`, offset);
  });

  test.each([
    ['(2, -3)', '(2, -3)'],
    ['[2, 3]', '[2, 3]'],
    ['(2)', '2'],
    ["('2',)", "('2',)"],
    ['None', 'None'],
  ])('bad shape %s', (shape, shown) => {
    const file = npy(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`);
    const offset = file.indexOf(shape, file.indexOf("'shape'"));
    expectNpyError(() => parseNpyHeader(file), `'shape' at byte ${offset} must be a tuple of non-negative integers, found ${shown}`, offset);
  });

  test('shape too large to address', () => {
    const file = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }");
    expectNpyError(() => parseNpyHeader(file), 'shape (4294967296, 4294967296) at byte', file.indexOf('(4294967296'));
  });

  test('data shorter than the shape needs (the 800 MB case, from the file size alone)', () => {
    const header = formatNpyHeader({ dtype: '<f4', shape: [10000, 2000] });
    expectNpyError(
      () => parseNpyHeader(header, { fileSize: header.length + 79999996 }),
      'expected 80000000 data bytes for shape (10000, 2000) <f4, found 79999996 (data starts at byte 128)',
      128,
    );
  });

  test('data longer than the shape needs', () => {
    const file = npy(F4_2x3, { data: 25 });
    expectNpyError(() => parseNpyHeader(file), 'expected 24 data bytes for shape (2, 3) <f4, found 25', 10 + F4_2x3.length);
  });

  test('1-d shapes print with the trailing comma', () => {
    const dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
    expectNpyError(() => parseNpyHeader(npy(dict)), 'expected 24 data bytes for shape (3,) <f8, found 0', 10 + dict.length);
  });
});
