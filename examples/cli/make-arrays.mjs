#!/usr/bin/env node
// Writes the files catalog.yaml refers to: 120 stimuli, features of an 8-wide backbone, and
// responses of 12 voxels (3 repeats) that are a planted linear map of those features plus noise,
// so a ridge encoding model should recover them well.
//   node examples/cli/make-arrays.mjs [output directory, default: this directory]
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const out = process.argv[2] ?? path.dirname(new URL(import.meta.url).pathname);
const [N, D, V, R] = [120, 8, 12, 3];

// A seeded generator, so every run writes the same bytes.
let seed = 7;
const uniform = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

function npy(shape, values) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(values).buffer)]);
}

const X = Array.from({ length: N * D }, normal);
const W = Array.from({ length: D * V }, normal);
const betas = [];
for (let r = 0; r < R; r++)
  for (let n = 0; n < N; n++)
    for (let v = 0; v < V; v++) {
      let signal = 0;
      for (let d = 0; d < D; d++) signal += X[n * D + d] * W[d * V + v];
      betas.push(signal + 0.5 * normal());
    }

writeFileSync(path.join(out, 'features.npy'), npy([N, D], X));
writeFileSync(path.join(out, 'betas.npy'), npy([R, N, V], betas));
writeFileSync(
  path.join(out, 'stimuli.csv'),
  ['externalId,concepts,caption', ...Array.from({ length: N }, (_, i) => `img-${i},${i % 2 ? 'face' : 'place|indoor'},image ${i}`)].join('\n') + '\n',
);
console.log(`wrote features.npy [${N}, ${D}], betas.npy [${R}, ${N}, ${V}] and stimuli.csv to ${out}`);
