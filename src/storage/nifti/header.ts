// NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers, either byte order, as laid out in nifti1.h
// and nifti2.h. Only the fields that decide how to read the data and where it lies in space.
import { bestAffine, type Affine } from './affine';
import { datatypeOf, type NiftiDatatype } from './datatypes';
import { NiftiFormatError } from './errors';

export const NIFTI1_HEADER_BYTES = 348;
export const NIFTI2_HEADER_BYTES = 540;

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** dim[1..dim[0]]: at least three axes (x, y, z), then time / volumes. */
  dims: number[];
  datatype: NiftiDatatype;
  pixdim: number[];
  voxOffset: number;
  /** Applied as value * slope + inter when slope is finite and nonzero (nibabel's rule). */
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: [number[], number[], number[]];
  affine: Affine;
  affineSource: 'sform' | 'qform' | 'pixdim';
  description: string;
}

/** Voxels in one 3D volume, and how many volumes the file holds. */
export function volumeLayout(h: NiftiHeader): { shape3d: [number, number, number]; voxelsPerVolume: number; nVolumes: number } {
  const shape3d: [number, number, number] = [h.dims[0], h.dims[1] ?? 1, h.dims[2] ?? 1];
  const nVolumes = h.dims.slice(3).reduce((a, b) => a * b, 1);
  return { shape3d, voxelsPerVolume: shape3d[0] * shape3d[1] * shape3d[2], nVolumes };
}

/** Which version and byte order the first four bytes announce, or null when not NIfTI. */
export function sniffHeader(first4: Buffer): { version: 1 | 2; littleEndian: boolean } | null {
  const le = first4.readInt32LE(0);
  const be = first4.readInt32BE(0);
  if (le === NIFTI1_HEADER_BYTES) return { version: 1, littleEndian: true };
  if (be === NIFTI1_HEADER_BYTES) return { version: 1, littleEndian: false };
  if (le === NIFTI2_HEADER_BYTES) return { version: 2, littleEndian: true };
  if (be === NIFTI2_HEADER_BYTES) return { version: 2, littleEndian: false };
  return null;
}

function cString(buf: Buffer, offset: number, length: number): string {
  const raw = buf.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
}

export function parseHeader(buf: Buffer, file: string): NiftiHeader {
  const sniff = sniffHeader(buf);
  if (!sniff) throw new NiftiFormatError(file, 'sizeof_hdr', `is not a NIfTI file: sizeof_hdr is ${buf.readInt32LE(0)}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`);
  const { version, littleEndian: le } = sniff;
  const i16 = (o: number) => (le ? buf.readInt16LE(o) : buf.readInt16BE(o));
  const i32 = (o: number) => (le ? buf.readInt32LE(o) : buf.readInt32BE(o));
  const f32 = (o: number) => (le ? buf.readFloatLE(o) : buf.readFloatBE(o));
  const f64 = (o: number) => (le ? buf.readDoubleLE(o) : buf.readDoubleBE(o));
  const i64 = (o: number) => Number(le ? buf.readBigInt64LE(o) : buf.readBigInt64BE(o));
  const v1 = version === 1;

  const magic = v1 ? cString(buf, 344, 4) : cString(buf, 4, 4);
  const expectedMagic = v1 ? ['n+1', 'ni1'] : ['n+2', 'ni2'];
  if (!expectedMagic.includes(magic))
    throw new NiftiFormatError(file, 'magic', `magic is ${JSON.stringify(magic)}, expected ${expectedMagic.map((m) => JSON.stringify(m)).join(' or ')}`);
  if (magic === 'ni1' || magic === 'ni2')
    throw new NiftiFormatError(file, 'magic', 'is the header of a .hdr/.img pair; convert it to a single .nii file (e.g. nibabel.save(img, "x.nii.gz"))');

  const dim = Array.from({ length: 8 }, (_, k) => (v1 ? i16(40 + 2 * k) : i64(16 + 8 * k)));
  const ndim = dim[0];
  if (ndim < 1 || ndim > 7) throw new NiftiFormatError(file, 'dim', `dim[0] is ${ndim}; it must be 1 to 7`, { dim });
  const dims = dim.slice(1, 1 + ndim);
  if (dims.some((d) => d < 1)) throw new NiftiFormatError(file, 'dim', `dim holds a non-positive size: [${dims.join(', ')}]`, { dim: dims });
  while (dims.length < 3) dims.push(1);

  const datatype = datatypeOf(v1 ? i16(70) : i16(12), file);
  const bitpix = v1 ? i16(72) : i16(14);
  if (bitpix !== datatype.bytes * 8)
    throw new NiftiFormatError(file, 'bitpix', `bitpix is ${bitpix} but datatype ${datatype.name} has ${datatype.bytes * 8} bits`, { bitpix, datatype: datatype.code });
  const pixdim = Array.from({ length: 8 }, (_, k) => (v1 ? f32(76 + 4 * k) : f64(104 + 8 * k)));
  const voxOffset = v1 ? f32(108) : i64(168);
  const minOffset = v1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  if (!(voxOffset >= minOffset) || !Number.isInteger(voxOffset))
    throw new NiftiFormatError(file, 'vox_offset', `vox_offset is ${voxOffset}; a single-file NIfTI needs an integer offset of at least ${minOffset}`, { voxOffset });
  const sclSlope = v1 ? f32(112) : f64(176);
  const sclInter = v1 ? f32(116) : f64(184);
  const qformCode = v1 ? i16(252) : i32(344);
  const sformCode = v1 ? i16(254) : i32(348);
  const q = (k: number) => (v1 ? f32(256 + 4 * k) : f64(352 + 8 * k));
  const quatern: [number, number, number] = [q(0), q(1), q(2)];
  const qoffset: [number, number, number] = [q(3), q(4), q(5)];
  const row = (r: number) => Array.from({ length: 4 }, (_, k) => (v1 ? f32(280 + 16 * r + 4 * k) : f64(400 + 32 * r + 8 * k)));
  const srow: [number[], number[], number[]] = [row(0), row(1), row(2)];
  const { affine, source } = bestAffine({ dims, pixdim, qformCode, sformCode, quatern, qoffset, srow });
  return {
    version,
    littleEndian: le,
    dims,
    datatype,
    pixdim,
    voxOffset,
    sclSlope,
    sclInter,
    qformCode,
    sformCode,
    quatern,
    qoffset,
    srow,
    affine,
    affineSource: source,
    description: cString(buf, v1 ? 148 : 240, 80),
  };
}

/** nibabel's rule: scaling applies when the slope is finite and nonzero; a non-finite intercept is 0. */
export function scaling(h: NiftiHeader): { slope: number; inter: number } | null {
  if (!Number.isFinite(h.sclSlope) || h.sclSlope === 0) return null;
  const inter = Number.isFinite(h.sclInter) ? h.sclInter : 0;
  if (h.sclSlope === 1 && inter === 0) return null;
  return { slope: h.sclSlope, inter };
}
