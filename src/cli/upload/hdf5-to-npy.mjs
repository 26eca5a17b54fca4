// Converts one numeric HDF5 dataset to a C-order .npy, reading it in blocks of rows so memory
// stays bounded. Runs as its own process because h5wasm is an ES module with a WASM heap.
//   node hdf5-to-npy.mjs <file.h5> <dataset path> <out.npy>
// Prints {"dtype": "<f4", "shape": [...]} on success, {"error": "..."} and exit code 2 on bad input.
import { closeSync, openSync, writeSync } from 'node:fs';
import h5wasm from 'h5wasm/node';

const BLOCK_BYTES = 16 * 1024 * 1024;
const [file, datasetPath, out] = process.argv.slice(2);

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

/** numpy descr for an HDF5 integer (type 0) or float (type 1) of 1-8 bytes. */
function descrOf(meta) {
  if (meta.vlen || (meta.type !== 0 && meta.type !== 1)) return null;
  const kind = meta.type === 1 ? 'f' : meta.signed ? 'i' : 'u';
  if (meta.type === 1 && meta.size !== 4 && meta.size !== 8) return null;
  if (![1, 2, 4, 8].includes(meta.size)) return null;
  return `${meta.size === 1 ? '|' : '<'}${kind}${meta.size}`;
}

function npyHeader(descr, shape) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const buf = Buffer.alloc(total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(buf, 0);
  buf.writeUInt16LE(total - 10, 8);
  buf.write(dict, 10, 'latin1');
  buf[total - 1] = 0x0a;
  return buf;
}

await h5wasm.ready;
let f;
try {
  f = new h5wasm.File(file, 'r');
} catch (err) {
  fail(`${file} is not a readable HDF5 file (${err.message ?? err})`);
}
const all = datasetsIn(f);
if (!datasetPath) fail(`Choose a dataset with --dataset; ${file} holds: ${all.join(', ') || 'no datasets'}`);
const ds = f.get(datasetPath);
if (!ds || ds.type !== 'Dataset') fail(`${file} has no dataset ${JSON.stringify(datasetPath)}; it holds: ${all.join(', ') || 'no datasets'}`);
const meta = ds.metadata;
const descr = descrOf(meta);
if (!descr) fail(`Dataset ${datasetPath} is not a numeric array (HDF5 type class ${meta.type}, ${meta.size} bytes); only integer and float32/float64 datasets can be converted`);
const shape = ds.shape ?? [];
if (shape.length === 0) fail(`Dataset ${datasetPath} is a scalar; an array is needed`);

const fd = openSync(out, 'w');
writeSync(fd, npyHeader(descr, shape));
const rowElems = shape.slice(1).reduce((a, b) => a * b, 1);
const rowsPerBlock = Math.max(1, Math.floor(BLOCK_BYTES / Math.max(1, rowElems * meta.size)));
for (let r0 = 0; r0 < shape[0]; r0 += rowsPerBlock) {
  const r1 = Math.min(shape[0], r0 + rowsPerBlock);
  const block = ds.slice([[r0, r1]]);
  writeSync(fd, new Uint8Array(block.buffer, block.byteOffset, block.byteLength));
}
closeSync(fd);
f.close();
process.stdout.write(JSON.stringify({ dtype: descr, shape, dataset: datasetPath }) + '\n');
