// The upper triangle of an n x n representational dissimilarity matrix, stored as scipy's pdist
// and rsatoolbox store it: row-major over pairs (i, j) with i < j, n (n - 1) / 2 values, float32.
// Every RSA kernel works on this vector; the square matrix is never formed.

/** Number of stimulus pairs of an n-stimulus RDM. */
export function pairCount(n: number): number {
  return (n * (n - 1)) / 2;
}

/** Position of pair (i, j), i < j, in the upper-triangle vector. */
export function pairIndex(n: number, i: number, j: number): number {
  return i * n - (i * (i + 1)) / 2 + (j - i - 1);
}

/** Number of stimuli of an upper-triangle vector of `m` pairs. */
export function stimuliOfPairs(m: number): number {
  const n = Math.round((1 + Math.sqrt(1 + 8 * m)) / 2);
  if (pairCount(n) !== m) throw new RangeError(`${m} is not the pair count of any RDM`);
  return n;
}

/** The RDM over a subset of the stimuli (in the given order), as its own upper triangle. */
export function subTriangle(values: Float32Array, n: number, stimuli: ArrayLike<number>): Float32Array {
  const k = stimuli.length;
  const out = new Float32Array(pairCount(k));
  let p = 0;
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const i = stimuli[a];
      const j = stimuli[b];
      out[p++] = i < j ? values[pairIndex(n, i, j)] : values[pairIndex(n, j, i)];
    }
  }
  return out;
}

/** The full symmetric matrix of a subset (for heatmaps of at most a few hundred stimuli). */
export function squareOf(values: Float32Array, n: number, stimuli: ArrayLike<number>): Float32Array {
  const k = stimuli.length;
  const out = new Float32Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const i = stimuli[a];
      const j = stimuli[b];
      const v = i < j ? values[pairIndex(n, i, j)] : values[pairIndex(n, j, i)];
      out[a * k + b] = v;
      out[b * k + a] = v;
    }
  }
  return out;
}
