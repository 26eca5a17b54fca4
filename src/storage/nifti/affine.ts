// Voxel -> world (mm) affines from a NIfTI header, chosen as nibabel's `get_best_affine` does:
// the sform when sform_code > 0, else the qform (quaternion, pixdim, qfac) when qform_code > 0,
// else nibabel's fallback of pixdim scaling centred on the volume with x flipped.
// Affines are 4x4 row-major arrays of 16 numbers.

export type Affine = number[];

export interface AffineFields {
  dims: number[];
  pixdim: number[];
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: [number[], number[], number[]];
}

/** Quaternion (w, x, y, z) to rotation matrix, as nibabel.quaternions.quat2mat. */
function quatToMatrix(w: number, x: number, y: number, z: number): number[][] {
  const nq = w * w + x * x + y * y + z * z;
  if (nq < 1e-15)
    return [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
  const s = 2 / nq;
  const X = x * s, Y = y * s, Z = z * s;
  const wX = w * X, wY = w * Y, wZ = w * Z;
  const xX = x * X, xY = x * Y, xZ = x * Z;
  const yY = y * Y, yZ = y * Z, zZ = z * Z;
  return [
    [1 - (yY + zZ), xY - wZ, xZ + wY],
    [xY + wZ, 1 - (xX + zZ), yZ - wX],
    [xZ - wY, yZ + wX, 1 - (xX + yY)],
  ];
}

export function qformAffine(f: AffineFields): Affine {
  const [b, c, d] = f.quatern;
  // nibabel's fillpositive: w is the positive root; tiny negative w^2 (float32 rounding) is 0.
  const w2 = 1 - (b * b + c * c + d * d);
  const a = w2 < 0 ? 0 : Math.sqrt(w2);
  const R = quatToMatrix(a, b, c, d);
  // qfac (pixdim[0]) flips the third axis; 0 is read as 1, as the standard asks.
  const qfac = f.pixdim[0] === -1 ? -1 : 1;
  const vox = [f.pixdim[1], f.pixdim[2], f.pixdim[3] * qfac];
  const out: Affine = [];
  for (let r = 0; r < 3; r++) {
    for (let k = 0; k < 3; k++) out.push(R[r][k] * vox[k]);
    out.push(f.qoffset[r]);
  }
  return [...out, 0, 0, 0, 1];
}

export function sformAffine(f: AffineFields): Affine {
  return [...f.srow[0], ...f.srow[1], ...f.srow[2], 0, 0, 0, 1];
}

/** nibabel's affine when neither qform nor sform is set (`shape_zoom_affine` with x flipped). */
export function fallbackAffine(f: AffineFields): Affine {
  const zooms = [1, 2, 3].map((i) => (f.pixdim[i] > 0 ? f.pixdim[i] : 1));
  zooms[0] = -zooms[0];
  const shape = [0, 1, 2].map((i) => f.dims[i] ?? 1);
  const t = shape.map((n, i) => (-(n - 1) / 2) * zooms[i]);
  return [zooms[0], 0, 0, t[0], 0, zooms[1], 0, t[1], 0, 0, zooms[2], t[2], 0, 0, 0, 1];
}

export function bestAffine(f: AffineFields): { affine: Affine; source: 'sform' | 'qform' | 'pixdim' } {
  if (f.sformCode > 0) return { affine: sformAffine(f), source: 'sform' };
  if (f.qformCode > 0) return { affine: qformAffine(f), source: 'qform' };
  return { affine: fallbackAffine(f), source: 'pixdim' };
}

/**
 * Quaternion parameters of an affine for the qform, as nibabel's set_qform for orthogonal
 * rotations (column norms give the voxel sizes, a negative determinant becomes qfac = -1).
 * Non-orthogonal affines are kept exactly in the sform; their qform is the nearest rotation only
 * approximately.
 */
export function affineToQuaternion(affine: Affine): { quatern: [number, number, number]; qoffset: [number, number, number]; pixdim: number[] } {
  const M = [0, 1, 2].map((r) => [0, 1, 2].map((k) => affine[4 * r + k]));
  const zooms = [0, 1, 2].map((k) => Math.hypot(M[0][k], M[1][k], M[2][k]) || 1);
  const R = M.map((row) => row.map((v, k) => v / zooms[k]));
  const det =
    R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) - R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) + R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) for (let r = 0; r < 3; r++) R[r][2] = -R[r][2];
  nearestRotation(R);
  // Shepperd's method on the proper rotation, w kept non-negative.
  const tr = R[0][0] + R[1][1] + R[2][2];
  let w: number, x: number, y: number, z: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = 0.25 * s;
    x = (R[2][1] - R[1][2]) / s;
    y = (R[0][2] - R[2][0]) / s;
    z = (R[1][0] - R[0][1]) / s;
  } else if (R[0][0] > R[1][1] && R[0][0] > R[2][2]) {
    const s = Math.sqrt(1 + R[0][0] - R[1][1] - R[2][2]) * 2;
    w = (R[2][1] - R[1][2]) / s;
    x = 0.25 * s;
    y = (R[0][1] + R[1][0]) / s;
    z = (R[0][2] + R[2][0]) / s;
  } else if (R[1][1] > R[2][2]) {
    const s = Math.sqrt(1 + R[1][1] - R[0][0] - R[2][2]) * 2;
    w = (R[0][2] - R[2][0]) / s;
    x = (R[0][1] + R[1][0]) / s;
    y = 0.25 * s;
    z = (R[1][2] + R[2][1]) / s;
  } else {
    const s = Math.sqrt(1 + R[2][2] - R[0][0] - R[1][1]) * 2;
    w = (R[1][0] - R[0][1]) / s;
    x = (R[0][2] + R[2][0]) / s;
    y = (R[1][2] + R[2][1]) / s;
    z = 0.25 * s;
  }
  if (w < 0) [w, x, y, z] = [-w, -x, -y, -z];
  return { quatern: [x, y, z], qoffset: [affine[3], affine[7], affine[11]], pixdim: [qfac, ...zooms] };
}

/**
 * Replaces R by its orthogonal polar factor (the nearest rotation, what nibabel takes from the
 * SVD: P Q^T), by Newton's iteration R <- (R + R^-T) / 2.
 */
function nearestRotation(R: number[][]): void {
  for (let it = 0; it < 30; it++) {
    const [a, b, c] = R[0];
    const [d, e, f] = R[1];
    const [g, h, i] = R[2];
    const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    if (Math.abs(det) < 1e-12) return;
    // Inverse transpose = cofactor matrix / det.
    const cof = [
      [e * i - f * h, -(d * i - f * g), d * h - e * g],
      [-(b * i - c * h), a * i - c * g, -(a * h - b * g)],
      [b * f - c * e, -(a * f - c * d), a * e - b * d],
    ];
    let change = 0;
    for (let r = 0; r < 3; r++)
      for (let k = 0; k < 3; k++) {
        const next = (R[r][k] + cof[r][k] / det) / 2;
        change = Math.max(change, Math.abs(next - R[r][k]));
        R[r][k] = next;
      }
    if (change < 1e-15) return;
  }
}

/** Largest absolute difference between two affines (for "same space" checks). */
export function affineDistance(a: Affine, b: Affine): number {
  let worst = 0;
  for (let i = 0; i < 16; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return worst;
}

export function formatAffine(a: Affine): string {
  const rows = [0, 1, 2].map((r) => `[${a.slice(4 * r, 4 * r + 4).map((v) => Number(v.toPrecision(6))).join(', ')}]`);
  return `[${rows.join(', ')}]`;
}
