/**
 * The numpy dtypes the codec understands, their typed-array counterparts, and conversions
 * between raw file bytes and typed arrays (byte order, float16, float32 for compute).
 *
 * Typed arrays are always native byte order; this module assumes a little-endian host
 * (x86-64, arm64), checked once at load.
 */
import os from 'node:os';

if (os.endianness() !== 'LE') {
  throw new Error('src/storage assumes a little-endian host');
}

export type NpyDtypeName =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64';

/**
 * Values as held in memory. float16 has no typed array in Node 20, so its raw IEEE half bits
 * are kept in a Uint16Array (toFloat32 decodes them); bool is a Uint8Array of 0/1.
 */
export type NpyTypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface NpyDtype {
  /** Normalised numpy descr as written in headers, e.g. '<f4', '>i8', '|u1', '|b1'. */
  readonly descr: string;
  readonly name: NpyDtypeName;
  /** Bytes per element. */
  readonly itemSize: number;
  /** Byte order of the file data; irrelevant (true) for 1-byte types. */
  readonly littleEndian: boolean;
}

interface TypeSpec {
  name: NpyDtypeName;
  ctor: { new (length: number): NpyTypedArray; new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyTypedArray };
}

const TYPES: Record<string, TypeSpec> = {
  b1: { name: 'bool', ctor: Uint8Array },
  i1: { name: 'int8', ctor: Int8Array },
  u1: { name: 'uint8', ctor: Uint8Array },
  i2: { name: 'int16', ctor: Int16Array },
  u2: { name: 'uint16', ctor: Uint16Array },
  i4: { name: 'int32', ctor: Int32Array },
  u4: { name: 'uint32', ctor: Uint32Array },
  i8: { name: 'int64', ctor: BigInt64Array },
  u8: { name: 'uint64', ctor: BigUint64Array },
  f2: { name: 'float16', ctor: Uint16Array },
  f4: { name: 'float32', ctor: Float32Array },
  f8: { name: 'float64', ctor: Float64Array },
};

const NAME_TO_CODE = Object.fromEntries(
  Object.entries(TYPES).map(([code, spec]) => [spec.name, code]),
) as Record<NpyDtypeName, string>;

/** Every descr accepted on input, for error messages. */
export const SUPPORTED_DESCRS: readonly string[] = Object.keys(TYPES).flatMap((code) =>
  code.endsWith('1') ? [`|${code}`] : [`<${code}`, `>${code}`],
);

/**
 * Parses a numpy descr string ('<f4', '>i2', '|u1', ...). Returns undefined when unsupported.
 * One-byte types accept '<', '>' or '|'; wider ones need an explicit '<' or '>' ('=' and '|'
 * would leave the byte order to the writing machine, which numpy never writes to files).
 */
export function parseDescr(descr: string): NpyDtype | undefined {
  const m = /^([<>|])([biuf][1248])$/.exec(descr);
  if (!m) return undefined;
  const [, order, code] = m;
  const spec = TYPES[code];
  if (!spec) return undefined;
  const itemSize = Number(code[1]);
  if (itemSize === 1) return { descr: `|${code}`, name: spec.name, itemSize, littleEndian: true };
  if (order === '|') return undefined;
  return { descr: `${order}${code}`, name: spec.name, itemSize, littleEndian: order === '<' };
}

/**
 * Resolves a dtype given either as a descr ('<f4', '>i8') or a name ('float32' means '<f4').
 * Throws on anything unsupported.
 */
export function resolveDtype(dtype: string | NpyDtype): NpyDtype {
  if (typeof dtype !== 'string') return dtype;
  const code = NAME_TO_CODE[dtype as NpyDtypeName];
  const parsed = parseDescr(code ? (code.endsWith('1') ? `|${code}` : `<${code}`) : dtype);
  if (!parsed) {
    throw new TypeError(`unknown dtype '${dtype}' (supported: ${SUPPORTED_DESCRS.join(', ')})`);
  }
  return parsed;
}

function spec(dtype: NpyDtype): TypeSpec {
  return TYPES[dtype.descr.slice(1)];
}

/** Reverses the bytes of each `itemSize`-byte element of `bytes`, in place. */
export function swapBytesInPlace(bytes: Uint8Array, itemSize: number): void {
  for (let i = 0; i + itemSize <= bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Interprets file bytes as a native typed array of `dtype`. Shares memory with `bytes` when the
 * data is little-endian and aligned for the element size; copies otherwise (never mutates input).
 * `bytes.length` must be a multiple of the item size.
 */
export function bytesToTypedArray(bytes: Uint8Array, dtype: NpyDtype, opts: { copy?: boolean } = {}): NpyTypedArray {
  const { ctor } = spec(dtype);
  const length = bytes.length / dtype.itemSize;
  const aligned = bytes.byteOffset % dtype.itemSize === 0;
  if (dtype.littleEndian && aligned && !opts.copy) return new ctor(bytes.buffer, bytes.byteOffset, length);
  const out = new ctor(length);
  const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  outBytes.set(bytes);
  if (!dtype.littleEndian) swapBytesInPlace(outBytes, dtype.itemSize);
  return out;
}

/** The array's bytes in the file's byte order (a view when little-endian, a copy otherwise). */
export function typedArrayToBytes(values: NpyTypedArray, dtype: NpyDtype): Uint8Array {
  const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (dtype.littleEndian || dtype.itemSize === 1) return view;
  const copy = Uint8Array.from(view);
  swapBytesInPlace(copy, dtype.itemSize);
  return copy;
}

/**
 * Converts any numeric values to a native typed array of `dtype`. Typed arrays of exactly the
 * right class are returned as is; others are converted element by element (bool: value != 0;
 * int64/uint64 from numbers via BigInt; float16 from numbers via rounding to half precision).
 */
export function coerceToDtype(values: ArrayLike<number | bigint | boolean>, dtype: NpyDtype): NpyTypedArray {
  const { ctor } = spec(dtype);
  if (values instanceof ctor && dtype.name !== 'bool' && dtype.name !== 'float16') return values as NpyTypedArray;
  if (dtype.name === 'float16' && values instanceof Uint16Array) return values;
  const out = new ctor(values.length);
  const n = values.length;
  if (dtype.name === 'bool') {
    for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
  } else if (dtype.name === 'int64' || dtype.name === 'uint64') {
    const big = out as BigInt64Array | BigUint64Array;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      big[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    }
  } else if (dtype.name === 'float16') {
    for (let i = 0; i < n; i++) out[i] = float32ToHalfBits(Number(values[i]));
  } else {
    const num = out as Exclude<NpyTypedArray, BigInt64Array | BigUint64Array>;
    for (let i = 0; i < n; i++) num[i] = Number(values[i]);
  }
  return out;
}

/**
 * Converts native values of `dtype` (as returned by bytesToTypedArray) to float32, writing into
 * `out` (length must match) or a new array. int64 beyond 2^24 and float64 lose precision as
 * float32 always does.
 */
export function typedArrayToFloat32(values: NpyTypedArray, dtype: NpyDtype, out?: Float32Array): Float32Array {
  const n = values.length;
  const target = out ?? new Float32Array(n);
  if (target.length !== n) throw new RangeError(`output has ${target.length} elements, input ${n}`);
  if (dtype.name === 'float16') {
    const bits = values as Uint16Array;
    for (let i = 0; i < n; i++) target[i] = halfBitsToFloat32(bits[i]);
  } else if (dtype.name === 'int64' || dtype.name === 'uint64') {
    const big = values as BigInt64Array | BigUint64Array;
    for (let i = 0; i < n; i++) target[i] = Number(big[i]);
  } else {
    target.set(values as Exclude<NpyTypedArray, BigInt64Array | BigUint64Array>);
  }
  return target;
}

/** IEEE 754 half (binary16) bits to a number. */
export function halfBitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal or zero
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A number to IEEE half bits, round-to-nearest-even like numpy's astype(float16). */
export function float32ToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into exponent: correct
  return sign | half;
}
