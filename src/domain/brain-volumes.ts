// From volumes to a subject's voxel space, with no database: which voxels a mask selects (and in
// what order), and which of them an ROI mask or label volume covers.
import type { LabelTable } from '../storage/nifti/label-table';

/**
 * Order of a subject's voxels: C order over (x, y, z) of the mask's nonzero voxels, the order of
 * numpy's `np.nonzero(mask)` / `mask[...] ` on an array indexed [x, y, z] (nibabel's
 * `get_fdata()`): x slowest, z fastest. `data` is in NIfTI order (x fastest).
 */
export function maskVoxels(data: Float32Array, shape: [number, number, number]): { flat: Int32Array; ijk: Int32Array } {
  const [nx, ny, nz] = shape;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) n++;
  const flat = new Int32Array(n);
  const ijk = new Int32Array(3 * n);
  let v = 0;
  for (let i = 0; i < nx; i++)
    for (let j = 0; j < ny; j++)
      for (let k = 0; k < nz; k++) {
        const at = i + nx * (j + ny * k);
        if (data[at] === 0) continue;
        flat[v] = at;
        ijk[3 * v] = i;
        ijk[3 * v + 1] = j;
        ijk[3 * v + 2] = k;
        v++;
      }
  return { flat, ijk };
}

/** Distinct values other than 0 and 1, up to `limit`, for "this mask is not binary". */
export function nonBinaryValues(data: Float32Array, limit = 5): number[] {
  const found = new Set<number>();
  for (let i = 0; i < data.length && found.size < limit; i++) if (data[i] !== 0 && data[i] !== 1) found.add(data[i]);
  return [...found];
}

/** Subject voxel index of each volume position (-1 outside the subject's mask). */
export function voxelLookup(flat: Int32Array, volumeSize: number): Int32Array {
  const lookup = new Int32Array(volumeSize).fill(-1);
  flat.forEach((at, v) => (lookup[at] = v));
  return lookup;
}

export interface RoiPlacement {
  name: string;
  /** Subject voxel indices, ascending. */
  voxelIndices: number[];
  /** Voxels of the ROI that lie outside the subject's mask (reported, not used). */
  outsideMask: number;
}

export function roiFromMask(name: string, data: Float32Array, lookup: Int32Array): RoiPlacement {
  const voxelIndices: number[] = [];
  let outsideMask = 0;
  for (let at = 0; at < data.length; at++) {
    if (data[at] === 0) continue;
    if (lookup[at] >= 0) voxelIndices.push(lookup[at]);
    else outsideMask++;
  }
  return { name, voxelIndices: voxelIndices.sort((a, b) => a - b), outsideMask };
}

/** Labels present in the volume that the table does not name, and named labels absent from it. */
export function labelMismatch(data: Float32Array, table: LabelTable): { unnamed: number[]; absent: number[]; nonInteger: number | null } {
  const present = new Set<number>();
  let nonInteger: number | null = null;
  for (let at = 0; at < data.length; at++) {
    const v = data[at];
    if (v === 0) continue;
    if (!Number.isInteger(v) && nonInteger === null) nonInteger = v;
    present.add(v);
  }
  return {
    unnamed: [...present].filter((v) => !table.has(v)).sort((a, b) => a - b),
    absent: [...table.keys()].filter((k) => !present.has(k)).sort((a, b) => a - b),
    nonInteger,
  };
}

export function roisFromLabels(data: Float32Array, table: LabelTable, lookup: Int32Array): RoiPlacement[] {
  const byLabel = new Map<number, RoiPlacement>();
  for (const [index, name] of table) byLabel.set(index, { name, voxelIndices: [], outsideMask: 0 });
  for (let at = 0; at < data.length; at++) {
    const roi = byLabel.get(data[at]);
    if (!roi) continue;
    if (lookup[at] >= 0) roi.voxelIndices.push(lookup[at]);
    else roi.outsideMask++;
  }
  for (const roi of byLabel.values()) roi.voxelIndices.sort((a, b) => a - b);
  return [...byLabel.values()];
}
