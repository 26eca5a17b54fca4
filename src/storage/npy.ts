/**
 * Whole-buffer `.npy` codec: decode to typed arrays, encode from them, and convert to the
 * float32 C-order layout compute uses. For files too large to hold, see npy-stream.ts.
 */
import {
  bytesToTypedArray,
  coerceToDtype,
  resolveDtype,
  typedArrayToBytes,
  typedArrayToFloat32,
  type NpyDtype,
  type NpyTypedArray,
} from './npy-dtype';
import { formatNpyHeader, formatShape, parseNpyHeader, type NpyHeader } from './npy-header';

export * from './npy-dtype';
export * from './npy-header';

/** An n-d array as stored in an `.npy` file. */
export interface NpyArray {
  dtype: NpyDtype;
  /** Outermost axis first; [] for 0-d. */
  shape: number[];
  /** Element order of `data`: false = C (row-major), true = Fortran (column-major). */
  fortranOrder: boolean;
  /** shape.reduce(*) elements, native byte order (float16 as raw bits, bool as 0/1). */
  data: NpyTypedArray;
}

/**
 * Decodes a complete `.npy` file. The returned data shares memory with `buf` when the file is
 * little-endian and the data is aligned (pass `copy: true` to always copy).
 */
export function decodeNpy(buf: Uint8Array, opts: { copy?: boolean } = {}): NpyArray & { header: NpyHeader } {
  const header = parseNpyHeader(buf);
  const bytes = buf.subarray(header.dataOffset, header.dataOffset + header.dataBytes);
  return {
    header,
    dtype: header.dtype,
    shape: header.shape,
    fortranOrder: header.fortranOrder,
    data: bytesToTypedArray(bytes, header.dtype, opts),
  };
}

/**
 * Encodes an array as `.npy`. `data` holds the elements in the order given by `fortranOrder`
 * (C order by default); typed arrays of the dtype's class are written without conversion,
 * anything else is converted. `dtype` is a descr ('<f4', '>i2', '|b1') or a name ('float32').
 */
export function encodeNpy(array: {
  dtype: string | NpyDtype;
  shape: readonly number[];
  data: ArrayLike<number | bigint | boolean>;
  fortranOrder?: boolean;
  /** Force a format version (default: 1.0, or 2.0 for headers over 64 KiB). */
  version?: 1 | 2 | 3;
}): Buffer {
  const dtype = resolveDtype(array.dtype);
  const header = formatNpyHeader({ dtype, shape: array.shape, fortranOrder: array.fortranOrder, version: array.version });
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count) {
    throw new RangeError(`shape ${formatShape(array.shape)} holds ${count} elements, data has ${array.data.length}`);
  }
  const body = typedArrayToBytes(coerceToDtype(array.data, dtype), dtype);
  return Buffer.concat([header, body]);
}

/**
 * The array as float32 in C order, shape unchanged: Fortran-ordered data is transposed, other
 * dtypes converted. Returns `array.data` itself when it is already float32 in C order.
 */
export function toFloat32(array: Pick<NpyArray, 'dtype' | 'shape' | 'fortranOrder' | 'data'>): Float32Array {
  const c = array.fortranOrder && array.shape.length > 1;
  if (array.data instanceof Float32Array && array.dtype.name === 'float32' && !c) return array.data;
  const flat = array.data instanceof Float32Array && array.dtype.name === 'float32' ? array.data : typedArrayToFloat32(array.data, array.dtype);
  return c ? fortranToC(flat, array.shape) : flat;
}

/**
 * Reorders column-major elements of an array of `shape` to row-major. Shape [d0, d1, ..., dk]
 * in both; element (i0..ik) sits at i0 + d0*(i1 + d1*(...)) in the input.
 */
export function fortranToC<T extends Float32Array | Float64Array>(src: T, shape: readonly number[]): T {
  const n = src.length;
  const out = new (src.constructor as { new (n: number): T })(n);
  const rank = shape.length;
  if (rank <= 1 || n === 0) {
    out.set(src);
    return out;
  }
  if (rank === 2) {
    const [rows, cols] = shape;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = src[j * rows + i];
    return out;
  }
  // General rank: walk C order with an index counter, tracking the Fortran offset.
  const fStride = new Array<number>(rank);
  fStride[0] = 1;
  for (let k = 1; k < rank; k++) fStride[k] = fStride[k - 1] * shape[k - 1];
  const idx = new Array<number>(rank).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    out[c] = src[f];
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]++;
      f += fStride[k];
      if (idx[k] < shape[k]) break;
      f -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}
