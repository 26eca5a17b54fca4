// Whole-buffer codec: round trips over every dtype, order and rank 0-4, files written by numpy
// (tests/storage/fixtures, made by scripts/fixtures/make-npy-fixtures.py), float32 conversion.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  decodeNpy,
  encodeNpy,
  float32ToHalfBits,
  fortranToC,
  halfBitsToFloat32,
  resolveDtype,
  SUPPORTED_DESCRS,
  toFloat32,
  type NpyDtype,
  type NpyTypedArray,
} from '../../src/storage/npy';

const FIXTURES = path.join(__dirname, 'fixtures');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));

/** Deterministic values covering each type's range (extremes, negatives, NaN, -0, inf). */
function sampleValues(dtype: NpyDtype, n: number): NpyTypedArray {
  const pick = <T>(table: T[], i: number) => table[i % table.length];
  switch (dtype.name) {
    case 'bool':
      return Uint8Array.from({ length: n }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    case 'int8':
      return Int8Array.from({ length: n }, (_, i) => pick([-128, 127, 0, -1, 5], i) + (i % 3));
    case 'uint8':
      return Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256);
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => pick([-32768, 32767, -2, 300], i));
    case 'uint16':
      return Uint16Array.from({ length: n }, (_, i) => pick([0, 65535, 256, 1], i) + (i % 2));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => pick([-2147483648, 2147483647, -70000, 3], i));
    case 'uint32':
      return Uint32Array.from({ length: n }, (_, i) => pick([0, 4294967295, 65536, 9], i));
    case 'int64':
      return BigInt64Array.from({ length: n }, (_, i) => pick([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -5n], i));
    case 'uint64':
      return BigUint64Array.from({ length: n }, (_, i) => pick([0n, 2n ** 64n - 1n, 2n ** 40n, 7n], i));
    case 'float16':
      return Uint16Array.from({ length: n }, (_, i) => pick([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000, 0x3555], i));
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => pick([1.5, -0, NaN, Infinity, -3.4e38, 1e-45, i / 7], i));
    case 'float64':
      return Float64Array.from({ length: n }, (_, i) => pick([Math.PI, -0, NaN, -Infinity, 1.7e308, 5e-324, i / 3], i));
  }
}

/** Element at C-order position c of an array whose data is in the given order (reference, slow). */
function elementAt(data: ArrayLike<number | bigint>, shape: number[], fortran: boolean, c: number) {
  if (!fortran) return data[c];
  const idx = [];
  for (let k = shape.length - 1, rem = c; k >= 0; k--) {
    idx[k] = rem % shape[k];
    rem = Math.floor(rem / shape[k]);
  }
  let f = 0;
  for (let k = shape.length - 1; k >= 0; k--) f = f * shape[k] + idx[k];
  return data[f];
}

const SHAPES: number[][] = [[], [5], [3, 4], [2, 3, 4], [2, 1, 3, 2], [0, 3], [4, 0, 2]];

describe('round trips', () => {
  const cases = SUPPORTED_DESCRS.flatMap((descr) => SHAPES.flatMap((shape) => [false, true].map((fortran) => [descr, shape, fortran] as const)));

  test.each(cases)('%s shape %j fortran=%s', (descr, shape, fortran) => {
    const dtype = resolveDtype(descr);
    const count = shape.reduce((a, b) => a * b, 1);
    const data = sampleValues(dtype, count);
    const file = encodeNpy({ dtype: descr, shape, data, fortranOrder: fortran });
    expect((file.length - data.byteLength) % 64).toBe(0); // data starts on a 64-byte boundary
    const back = decodeNpy(file);
    expect(back.dtype).toEqual(dtype);
    expect(back.shape).toEqual(shape);
    expect(back.fortranOrder).toBe(fortran);
    expect(back.data.constructor).toBe(data.constructor);
    expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(data as ArrayLike<number>));

    // float32, C order, elementwise equal to the reference conversion.
    const f32 = toFloat32(back);
    expect(f32).toBeInstanceOf(Float32Array);
    expect(f32.length).toBe(count);
    for (let c = 0; c < count; c++) {
      const v = elementAt(data as ArrayLike<number | bigint>, shape, fortran, c);
      const want = dtype.name === 'float16' ? halfBitsToFloat32(v as number) : Math.fround(Number(v));
      expect(Object.is(f32[c], want) || (Number.isNaN(f32[c]) && Number.isNaN(want))).toBe(true);
    }
  });

  test('big-endian files store swapped bytes', () => {
    const file = encodeNpy({ dtype: '>i4', shape: [1], data: Int32Array.of(0x01020304) });
    expect([...file.subarray(file.length - 4)]).toEqual([1, 2, 3, 4]);
    const le = encodeNpy({ dtype: '<i4', shape: [1], data: Int32Array.of(0x01020304) });
    expect([...le.subarray(le.length - 4)]).toEqual([4, 3, 2, 1]);
  });

  test('plain arrays, booleans and names are converted', () => {
    const a = decodeNpy(encodeNpy({ dtype: 'float64', shape: [3], data: [1, 2.5, -3] }));
    expect(a.dtype.descr).toBe('<f8');
    expect(Array.from(a.data as Float64Array)).toEqual([1, 2.5, -3]);
    const b = decodeNpy(encodeNpy({ dtype: 'bool', shape: [3], data: [true, false, true] }));
    expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 1]);
    const c = decodeNpy(encodeNpy({ dtype: '<i8', shape: [2], data: [3, -4] }));
    expect(Array.from(c.data as BigInt64Array)).toEqual([3n, -4n]);
  });

  test('versions 2.0 and 3.0 on request; 2.0 when the header needs more than 64 KiB', () => {
    for (const version of [2, 3] as const) {
      const file = encodeNpy({ dtype: '<f4', shape: [2], data: [1, 2], version });
      expect(file[6]).toBe(version);
      expect(decodeNpy(file).header.version.major).toBe(version);
    }
    const shape = Array.from({ length: 25000 }, () => 1);
    const big = encodeNpy({ dtype: '<u1', shape, data: [7] });
    expect(big[6]).toBe(2);
    expect(decodeNpy(big).shape).toEqual(shape);
  });

  test('decode shares memory when aligned, copies when not or when asked', () => {
    const file = encodeNpy({ dtype: '<f4', shape: [2], data: [1, 2] });
    expect(decodeNpy(file).data.buffer).toBe(file.buffer);
    expect(decodeNpy(file, { copy: true }).data.buffer).not.toBe(file.buffer);
    const shifted = Buffer.alloc(file.length + 1);
    file.copy(shifted, 1);
    const odd = decodeNpy(shifted.subarray(1));
    expect(Array.from(odd.data as Float32Array)).toEqual([1, 2]);
  });

  test('encoder rejects wrong lengths and unknown dtypes', () => {
    expect(() => encodeNpy({ dtype: '<f4', shape: [2, 3], data: new Float32Array(5) })).toThrow('shape (2, 3) holds 6 elements, data has 5');
    expect(() => encodeNpy({ dtype: '<c8', shape: [1], data: [1] })).toThrow("unknown dtype '<c8'");
    expect(() => encodeNpy({ dtype: '<f4', shape: [-1], data: [] })).toThrow('must hold non-negative integers');
  });
});

describe('files written by numpy 1.24', () => {
  test.each([
    ['f4_c_2x3.npy', '<f4', [2, 3], false, 1],
    ['f8_fortran_2x3x4.npy', '<f8', [2, 3, 4], true, 1],
    ['i8_be_5.npy', '>i8', [5], false, 1],
    ['u1_v2_3x2.npy', '|u1', [3, 2], false, 2],
    ['f4_v3_4.npy', '<f4', [4], false, 3],
    ['f2_6.npy', '<f2', [6], false, 1],
    ['i2_be_fortran_3x2.npy', '>i2', [3, 2], true, 1],
  ] as const)('%s decodes to arange and re-encodes byte for byte', (name, descr, shape, fortran, version) => {
    const file = fixture(name);
    const a = decodeNpy(file);
    expect(a.dtype.descr).toBe(descr);
    expect(a.shape).toEqual(shape);
    expect(a.fortranOrder).toBe(fortran);
    expect(a.header.version.major).toBe(version);
    const n = shape.reduce((x, y) => x * y, 1);
    expect(Array.from(toFloat32(a))).toEqual(Array.from({ length: n }, (_, i) => i));
    const again = encodeNpy({ dtype: a.dtype, shape: a.shape, data: a.data, fortranOrder: a.fortranOrder, version: version === 1 ? undefined : version });
    expect(again.equals(file)).toBe(true);
  });

  test('0-d bool', () => {
    const a = decodeNpy(fixture('b1_0d.npy'));
    expect(a.shape).toEqual([]);
    expect(Array.from(a.data as Uint8Array)).toEqual([1]);
    expect(encodeNpy({ dtype: '|b1', shape: [], data: [true] }).equals(fixture('b1_0d.npy'))).toBe(true);
  });
});

describe('float16 and transposition helpers', () => {
  test('every finite half value survives half -> float -> half', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = halfBitsToFloat32(h);
      if (Number.isNaN(v)) continue;
      if (float32ToHalfBits(v) !== h) throw new Error(`half 0x${h.toString(16)} -> ${v} -> 0x${float32ToHalfBits(v).toString(16)}`);
    }
  });

  test('rounding to half matches numpy (round half to even, overflow to inf)', () => {
    expect(float32ToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie, rounds to even
    expect(float32ToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToHalfBits(65520)).toBe(0x7c00);
    expect(float32ToHalfBits(NaN) & 0x7e00).toBe(0x7e00);
    expect(float32ToHalfBits(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal
  });

  test('fortranToC of a (2, 3) array', () => {
    // Column-major [[0, 1, 2], [3, 4, 5]] is 0 3 1 4 2 5.
    expect(Array.from(fortranToC(Float32Array.of(0, 3, 1, 4, 2, 5), [2, 3]))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('toFloat32 returns float32 C-order data as is', () => {
    const a = decodeNpy(encodeNpy({ dtype: '<f4', shape: [2], data: [1, 2] }));
    expect(toFloat32(a)).toBe(a.data);
  });
});
