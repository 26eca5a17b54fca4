// Split-half reliability against numpy (scripts/fixtures/nifti_reference.py, same splits).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { drawSplits, SplitHalfAccumulator } from '../../src/compute/split-half';

const ref = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'nifti', 'reference.json'), 'utf8')).splitHalf;

describe('split-half reliability', () => {
  it('equals numpy: mean Pearson r of half-means over the splits, Spearman-Brown corrected', () => {
    const [R, S, V] = ref.shape;
    const repeats = Array.from({ length: R }, (_, r) => Float64Array.from(ref.values.slice(r * S * V, (r + 1) * S * V)));
    const acc = new SplitHalfAccumulator(V, R, ref.splits);
    // In two chunks of stimuli, as the import streams them.
    const cut = 7 * V;
    acc.add(repeats.map((x) => x.subarray(0, cut)), 7);
    acc.add(repeats.map((x) => x.subarray(cut)), S - 7);
    const { r, spearmanBrown } = acc.result();
    ref.r.forEach((want: number, j: number) => expect(r[j]).toBeCloseTo(want, 10));
    ref.spearmanBrown.forEach((want: number, j: number) => expect(spearmanBrown[j]).toBeCloseTo(want, 10));
  });

  it('draws distinct halves while they last, reproducibly', () => {
    const three = drawSplits(3, 10, 1);
    expect(three).toHaveLength(10);
    expect(new Set(three.slice(0, 3).map((s) => s.join())).size).toBe(3);
    expect(three.every((s) => s.length === 1)).toBe(true);
    const four = drawSplits(4, 6, 2);
    expect(new Set(four.map((s) => s.join())).size).toBe(6);
    expect(drawSplits(4, 6, 2)).toEqual(four);
  });

  it('is NaN for a voxel whose half-means are constant', () => {
    const acc = new SplitHalfAccumulator(1, 2, [[0]]);
    acc.add([Float64Array.from([1, 1, 1]), Float64Array.from([1, 2, 3])], 3);
    expect(Number.isNaN(acc.result().r[0])).toBe(true);
  });
});
