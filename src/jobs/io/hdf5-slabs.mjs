// Streams a 4D HDF5 betas dataset (h5py order: trials x Z x Y x X, as NSD ships them) to stdout in
// the order its chunks are laid out, so each chunk is read once:
// - chunked per voxel across trials (NSD: chunks of [750, 1, 1, 1]): slabs of whole X columns,
//   [trials, Z, Y, x0:x1], every trial of those voxels at once ("voxels" order);
// - otherwise (per-trial chunks or contiguous): blocks of whole trial volumes ("trials" order).
// Runs as its own process because h5wasm is an ES module with its own WASM heap.
//   node hdf5-slabs.mjs <file.h5> <dataset> <slab bytes>
// Writes one JSON line {shape, dtype, chunks, order, step} then the raw little-endian slabs
// back to back, then one JSON line {"peakRssMb"} (this process's own peak memory, which the
// worker's does not include); on bad input one JSON line {"error": "..."} and exit code 2.
import { once } from 'node:events';
import { closeSync, openSync, readSync } from 'node:fs';
import h5wasm from 'h5wasm/node';

const [file, datasetPath, slabBytesArg] = process.argv.slice(2);
const SLAB_BYTES = Number(slabBytesArg) || 32 * 1024 * 1024;
const REOPEN_EVERY = 2;

function fail(message) {
  process.stdout.write(JSON.stringify({ error: message }) + '\n');
  process.exit(2);
}

function datasetsIn(group, prefix = '') {
  const found = [];
  for (const name of group.keys()) {
    const child = group.get(name);
    const full = `${prefix}/${name}`;
    if (child?.type === 'Dataset') found.push(full);
    else if (child?.type === 'Group') found.push(...datasetsIn(child, full));
  }
  return found;
}

function descrOf(meta) {
  if (meta.vlen || (meta.type !== 0 && meta.type !== 1)) return null;
  if (meta.type === 1) return meta.size === 4 || meta.size === 8 ? `<f${meta.size}` : null;
  if (![1, 2, 4].includes(meta.size)) return null;
  return `${meta.size === 1 ? '|' : '<'}${meta.signed ? 'i' : 'u'}${meta.size}`;
}

/** Waits while the reader is behind, so slabs never pile up in this process's memory. */
async function write(bytes) {
  if (!process.stdout.write(bytes)) await once(process.stdout, 'drain');
}

// h5wasm does not refuse a file that is not HDF5: look for the signature first.
const signature = Buffer.alloc(8);
const fd = openSync(file, 'r');
readSync(fd, signature, 0, 8, 0);
closeSync(fd);
if (!signature.equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) fail('is not an HDF5 file (no HDF5 signature at its start)');
// The reader may stop early (a refused session, a cancel): a closed pipe just ends this process.
process.stdout.on('error', () => process.exit(0));
await h5wasm.ready;
let f;
try {
  f = new h5wasm.File(file, 'r');
} catch (err) {
  fail(`is not a readable HDF5 file (${err.message ?? err})`);
}
const ds = f.get(datasetPath);
if (!ds || ds.type !== 'Dataset') fail(`has no dataset ${JSON.stringify(datasetPath)}; it holds: ${datasetsIn(f).join(', ') || 'no datasets'}`);
const meta = ds.metadata;
const dtype = descrOf(meta);
if (!dtype) fail(`dataset ${datasetPath} has HDF5 type class ${meta.type} of ${meta.size} bytes; betas must be integers of 1-4 bytes or float32/float64`);
const shape = ds.shape ?? [];
if (shape.length !== 4) fail(`dataset ${datasetPath} has shape [${shape.join(', ')}]; expected 4 axes, trials x Z x Y x X (h5py order)`);
const [T, Z, Y, X] = shape;
const chunks = meta.chunks ?? null;
const perVoxel = chunks && chunks[0] === T;
const order = perVoxel ? 'voxels' : 'trials';
let step;
if (perVoxel) {
  const cx = chunks[3];
  const columns = Math.floor(SLAB_BYTES / (T * Z * Y * meta.size));
  step = Math.min(X, Math.max(cx, Math.floor(columns / cx) * cx));
} else {
  const along = chunks ? chunks[0] : 1;
  const volumes = Math.floor(SLAB_BYTES / (Z * Y * X * meta.size));
  step = Math.min(T, Math.max(along, Math.floor(volumes / along) * along));
}
await write(JSON.stringify({ shape, dtype, chunks, order, step }) + '\n');
const limit = perVoxel ? X : T;
let slabs = 0;
let dataset = ds;
for (let a = 0; a < limit; a += step) {
  // HDF5 keeps the chunk index it has read (about 2 kB per chunk, 35 MB per NSD slab): reopening
  // the file every few slabs drops it, so memory stays flat instead of growing with the file.
  if (slabs > 0 && slabs % REOPEN_EVERY === 0) {
    f.close();
    f = new h5wasm.File(file, 'r');
    dataset = f.get(datasetPath);
  }
  slabs++;
  const b = Math.min(limit, a + step);
  const slab = perVoxel ? dataset.slice([[0, T], [0, Z], [0, Y], [a, b]]) : dataset.slice([[a, b], [0, Z], [0, Y], [0, X]]);
  await write(new Uint8Array(slab.buffer, slab.byteOffset, slab.byteLength));
}
f.close();
await write(JSON.stringify({ peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
