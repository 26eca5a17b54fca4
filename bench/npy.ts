// Writes bench data for the numpy comparison: the project's own .npy header, then the raw values
// in 64 MiB writes (arrays here reach several GB, more than one Buffer write takes).
import { closeSync, openSync, writeSync } from 'node:fs';
import { formatNpyHeader } from '../src/storage';

export function writeNpy(path: string, data: Float32Array | Float64Array, shape: number[]): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, formatNpyHeader({ dtype: data instanceof Float32Array ? '<f4' : '<f8', shape }));
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    for (let off = 0; off < bytes.length; off += 1 << 26) writeSync(fd, bytes.subarray(off, Math.min(off + (1 << 26), bytes.length)));
  } finally {
    closeSync(fd);
  }
}
