// Decodes the compact forms of a brain map (BrainMap.valuesFloat32 and maskBits in the schema).

function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Base64 of little-endian float32 -> the values (NaN where the map has none). */
export function decodeFloat32(base64: string): Float32Array {
  const bytes = bytesOf(base64);
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Base64 of one bit per grid point (C order over i, j, k, high bit first) -> each voxel's (i, j, k), flattened. */
export function decodeMaskIjk(base64: string, shape: readonly number[], nVoxels: number): Int32Array {
  const bits = bytesOf(base64);
  const [nx, ny, nz] = shape;
  const ijk = new Int32Array(3 * nVoxels);
  let v = 0;
  for (let g = 0; g < nx * ny * nz && v < nVoxels; g++) {
    if (!(bits[g >> 3] & (0x80 >> (g & 7)))) continue;
    ijk[3 * v] = Math.floor(g / (ny * nz));
    ijk[3 * v + 1] = Math.floor(g / nz) % ny;
    ijk[3 * v + 2] = g % nz;
    v++;
  }
  return ijk;
}
