// The population parameters the reference encoder was trained from (models/braincorl/population.json,
// sampled by models/braincorl/population.py) are those generateSynthetic uses for the reference
// configuration: the replayed streams match the generated features and voxel weights.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { iclReferenceConfig, ICL_EVALUATION_SUBJECTS, ICL_TRAINING_SUBJECTS } from '../../src/compute/icl/reference-data';
import { generateSynthetic, syntheticPopulation } from '../../src/compute/synthetic';
import { MODEL_DIR } from './helpers';

const config = iclReferenceConfig([ICL_EVALUATION_SUBJECTS[0]], { nTrainPerSubject: 200, nSharedTest: 100 });

test('training and evaluation subjects are disjoint', () => {
  expect(ICL_TRAINING_SUBJECTS).toHaveLength(16);
  expect(ICL_TRAINING_SUBJECTS.filter((s) => ICL_EVALUATION_SUBJECTS.includes(s))).toEqual([]);
});

test('population.json is what syntheticPopulation gives for the reference configuration', () => {
  const saved = JSON.parse(readFileSync(join(MODEL_DIR, 'population.json'), 'utf8'));
  const pop = syntheticPopulation(config);
  expect(saved.backbone.projection).toEqual(Array.from(pop.projections.clip.data));
  for (const roi of saved.rois) expect(roi.priorBasis).toEqual(Array.from(pop.priorBases[roi.name].data));
  expect(saved.centroids).toEqual(Array.from(pop.centroids.data));
});

test('the replayed projection and prior bases are the ones generateSynthetic used', () => {
  const ds = generateSynthetic(config);
  const pop = syntheticPopulation(config);
  const A = pop.projections.clip;
  const L = config.nLatent;
  // features - latents A is the feature noise alone (SD 0.5); any other A leaves ~1.2.
  const X = ds.features.clip;
  let ss = 0;
  for (let s = 0; s < X.rows; s++) {
    for (let j = 0; j < X.cols; j++) {
      let acc = 0;
      for (let k = 0; k < L; k++) acc += ds.latents.data[s * L + k] * A.data[k * A.cols + j];
      ss += (X.data[s * X.cols + j] - acc) ** 2;
    }
  }
  expect(Math.sqrt(ss / X.data.length)).toBeCloseTo(0.5, 1);
  // Weights of ROIs without a preferred concept lie in their prior basis's span up to the
  // subject-specific part (variance 0.3^2 / L per latent axis): under 5% of their squared norm.
  const subject = ds.subjects[0];
  const W = subject.latentWeights;
  for (const roi of subject.rois.filter((r) => r.name === 'V1' || r.name === 'V4')) {
    const B = pop.priorBases[roi.name];
    let residual = 0;
    let total = 0;
    for (const v of roi.voxels) {
      const w = Array.from({ length: L }, (_, k) => W.data[k * W.cols + v]);
      // Least squares onto the rows of B (rank x L) via the normal equations.
      const r = B.rows;
      const G = Array.from({ length: r }, (_, a) => Array.from({ length: r }, (_, b) => dot(B.data, a, b, L)));
      const rhs = Array.from({ length: r }, (_, a) => w.reduce((s, x, k) => s + x * B.data[a * L + k], 0));
      const c = solve(G, rhs);
      for (let k = 0; k < L; k++) {
        const fit = c.reduce((s, ca, a) => s + ca * B.data[a * L + k], 0);
        residual += (w[k] - fit) ** 2;
        total += w[k] ** 2;
      }
    }
    expect(residual / total).toBeLessThan(0.05);
  }
});

function dot(m: Float64Array, a: number, b: number, L: number): number {
  let s = 0;
  for (let k = 0; k < L; k++) s += m[a * L + k] * m[b * L + k];
  return s;
}

/** Gaussian elimination for a small dense system. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let i = 0; i < n; i++) {
    const p = M.slice(i).reduce((best, row, j) => (Math.abs(row[i]) > Math.abs(M[best][i]) ? i + j : best), i);
    [M[i], M[p]] = [M[p], M[i]];
    for (let j = i + 1; j < n; j++) {
      const f = M[j][i] / M[i][i];
      for (let k = i; k <= n; k++) M[j][k] -= f * M[i][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) x[i] = (M[i][n] - M[i].slice(i + 1, n).reduce((s, m, j) => s + m * x[i + 1 + j], 0)) / M[i][i];
  return x;
}
