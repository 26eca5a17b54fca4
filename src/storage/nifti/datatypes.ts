// NIfTI datatype codes (nifti1.h) and how to decode each from bytes. Complex, RGB and float128
// volumes are not brain maps a lab imports as betas or masks, and are refused.
import { NiftiFormatError } from './errors';

export type NiftiDatatypeName = 'uint8' | 'int16' | 'int32' | 'float32' | 'float64' | 'int8' | 'uint16' | 'uint32' | 'int64' | 'uint64';

export interface NiftiDatatype {
  code: number;
  name: NiftiDatatypeName;
  bytes: number;
}

const SUPPORTED: NiftiDatatype[] = [
  { code: 2, name: 'uint8', bytes: 1 },
  { code: 4, name: 'int16', bytes: 2 },
  { code: 8, name: 'int32', bytes: 4 },
  { code: 16, name: 'float32', bytes: 4 },
  { code: 64, name: 'float64', bytes: 8 },
  { code: 256, name: 'int8', bytes: 1 },
  { code: 512, name: 'uint16', bytes: 2 },
  { code: 768, name: 'uint32', bytes: 4 },
  { code: 1024, name: 'int64', bytes: 8 },
  { code: 1280, name: 'uint64', bytes: 8 },
];

const UNSUPPORTED: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  128: 'rgb24',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32',
};

export function datatypeOf(code: number, file: string): NiftiDatatype {
  const found = SUPPORTED.find((d) => d.code === code);
  if (found) return found;
  const what = UNSUPPORTED[code] ? `${UNSUPPORTED[code]} (code ${code})` : `unknown code ${code}`;
  throw new NiftiFormatError(file, 'datatype', `datatype ${what} is not supported; save the volume as one of ${SUPPORTED.map((d) => d.name).join(', ')}`, {
    datatype: code,
  });
}

export function datatypeByName(name: NiftiDatatypeName): NiftiDatatype {
  return SUPPORTED.find((d) => d.name === name)!;
}

/**
 * Decodes `count` values starting at `offset` of `bytes` into `out` (as numbers, before scaling).
 * 64-bit integers are exact only up to 2^53: larger magnitudes are refused rather than rounded.
 */
export function decodeInto(
  bytes: Buffer,
  offset: number,
  count: number,
  type: NiftiDatatype,
  littleEndian: boolean,
  out: Float32Array | Float64Array,
  file: string,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * type.bytes);
  const le = littleEndian;
  switch (type.name) {
    case 'uint8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      return;
    case 'int8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return;
    case 'int16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, le);
      return;
    case 'uint16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, le);
      return;
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, le);
      return;
    case 'uint32':
      for (let i = 0; i < count; i++) out[i] = view.getUint32(4 * i, le);
      return;
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, le);
      return;
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, le);
      return;
    case 'int64':
    case 'uint64':
      for (let i = 0; i < count; i++) {
        const v = type.name === 'int64' ? view.getBigInt64(8 * i, le) : view.getBigUint64(8 * i, le);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
          throw new NiftiFormatError(file, 'data', `${type.name} value ${v} at element ${i} is beyond 2^53 and cannot be represented exactly`, { value: String(v) });
        out[i] = Number(v);
      }
      return;
  }
}
