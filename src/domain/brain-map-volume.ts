// From a per-voxel vector back to a volume, with no database: each subject voxel's value goes to
// its (i, j, k); everything else is NaN, so viewers (FSLeyes, nilearn) show it as empty rather
// than as a value of 0, which is a real r or explained variance.
import { encodeNifti1, type Affine } from '../storage/nifti';

/** Values in subject voxel order scattered onto the grid, NIfTI order (x fastest), NaN elsewhere. */
export function scatterToVolume(values: ArrayLike<number>, ijk: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [nx, ny, nz] = shape;
  if (ijk.length !== 3 * values.length) throw new RangeError(`${values.length} values but ${ijk.length / 3} voxel coordinates`);
  const volume = new Float32Array(nx * ny * nz).fill(NaN);
  for (let v = 0; v < values.length; v++) {
    const i = ijk[3 * v], j = ijk[3 * v + 1], k = ijk[3 * v + 2];
    if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) throw new RangeError(`voxel ${v} at (${i}, ${j}, ${k}) lies outside the grid [${shape.join(', ')}]`);
    volume[i + nx * (j + ny * k)] = values[v];
  }
  return volume;
}

/** How many values are finite, and their range (null when none is). */
export function finiteRange(values: ArrayLike<number>): { nFinite: number; min: number | null; max: number | null } {
  let nFinite = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let v = 0; v < values.length; v++) {
    const x = values[v];
    if (!Number.isFinite(x)) continue;
    nFinite++;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return nFinite ? { nFinite, min, max } : { nFinite, min: null, max: null };
}

/**
 * A float32 .nii.gz of the map: the subject's shape and affine, sform_code and qform_code both 2
 * ("aligned"). The sform holds the affine exactly; the qform (rotation, voxel sizes, flip) holds
 * it exactly when its axes are orthogonal, as scanner affines are, and otherwise its nearest
 * rotation, as nibabel's set_qform does. nibabel, nilearn and FSLeyes read the sform first.
 */
export function brainMapNifti(map: { shape: readonly number[]; affine: Affine; ijk: ArrayLike<number>; values: ArrayLike<number>; description?: string }): Buffer {
  const data = scatterToVolume(map.values, map.ijk, map.shape);
  return encodeNifti1(
    { shape: [...map.shape], affine: map.affine, data, datatype: 'float32', description: map.description, qformCode: 2 },
    { gzip: true },
  );
}
