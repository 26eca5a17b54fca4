// Writes NIfTI-1 single files (.nii, or .nii.gz when asked) for brain maps: a 3D (or 4D) volume,
// little-endian, sform_code 2 ("aligned") holding the affine exactly and the qform's quaternion
// filled in; qform_code 0 by default, as nibabel's Nifti1Image(data, affine) writes them.
import { gzipSync } from 'node:zlib';
import { affineToQuaternion, type Affine } from './affine';
import { datatypeByName, type NiftiDatatypeName } from './datatypes';
import { NIFTI1_HEADER_BYTES } from './header';

export interface NiftiVolume {
  /** [nx, ny, nz] or [nx, ny, nz, nt]. */
  shape: number[];
  /** 4x4 row-major voxel -> mm. */
  affine: Affine;
  /** Values in NIfTI order (x fastest), all volumes one after the other. */
  data: ArrayLike<number>;
  datatype?: Extract<NiftiDatatypeName, 'float32' | 'int16' | 'uint8' | 'int32'>;
  description?: string;
  /** xyzt_units: 2 (mm) by default, as scanners' spatial unit. */
  xyztUnits?: number;
  /**
   * qform_code (0 by default: the sform alone is the space). Set it only for affines the
   * quaternion represents (orthogonal axes), else the two would disagree.
   */
  qformCode?: number;
}

const VOX_OFFSET = 352;

export function encodeNifti1(volume: NiftiVolume, options: { gzip?: boolean } = {}): Buffer {
  const { shape, affine, data } = volume;
  const type = datatypeByName(volume.datatype ?? 'float32');
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`data holds ${data.length} values but shape [${shape.join(', ')}] needs ${count}`);
  if (shape.length < 3 || shape.length > 7) throw new RangeError(`shape must have 3 to 7 axes, got [${shape.join(', ')}]`);
  if (affine.length !== 16) throw new RangeError(`the affine must have 16 numbers (4x4 row-major), got ${affine.length}`);
  const buf = Buffer.alloc(VOX_OFFSET + count * type.bytes);
  buf.writeInt32LE(NIFTI1_HEADER_BYTES, 0);
  buf.writeUInt8(0, 39); // dim_info
  buf.writeInt16LE(shape.length, 40);
  for (let k = 0; k < 7; k++) buf.writeInt16LE(shape[k] ?? 1, 42 + 2 * k);
  buf.writeInt16LE(type.code, 70);
  buf.writeInt16LE(type.bytes * 8, 72);
  const q = affineToQuaternion(affine);
  const pixdim = [q.pixdim[0], q.pixdim[1], q.pixdim[2], q.pixdim[3], 1, 1, 1, 1];
  for (let k = 0; k < 8; k++) buf.writeFloatLE(pixdim[k], 76 + 4 * k);
  buf.writeFloatLE(VOX_OFFSET, 108);
  buf.writeFloatLE(1, 112); // scl_slope: values are stored as they are
  buf.writeFloatLE(0, 116);
  buf.writeUInt8(volume.xyztUnits ?? 2, 123);
  buf.write((volume.description ?? '').slice(0, 79), 148, 'latin1');
  buf.writeInt16LE(volume.qformCode ?? 0, 252); // 0: the sform alone is the space
  buf.writeInt16LE(2, 254); // sform_code aligned
  [...q.quatern, ...q.qoffset].forEach((v, k) => buf.writeFloatLE(v, 256 + 4 * k));
  for (let r = 0; r < 3; r++) for (let k = 0; k < 4; k++) buf.writeFloatLE(affine[4 * r + k], 280 + 16 * r + 4 * k);
  buf.write('n+1\0', 344, 'latin1');
  // Bytes 348-351: no extensions.
  const view = new DataView(buf.buffer, buf.byteOffset + VOX_OFFSET, count * type.bytes);
  for (let i = 0; i < count; i++) {
    const v = data[i];
    switch (type.name) {
      case 'float32':
        view.setFloat32(4 * i, v, true);
        break;
      case 'int16':
        view.setInt16(2 * i, v, true);
        break;
      case 'int32':
        view.setInt32(4 * i, v, true);
        break;
      case 'uint8':
        view.setUint8(i, v);
        break;
    }
  }
  return options.gzip ? gzipSync(buf) : buf;
}
