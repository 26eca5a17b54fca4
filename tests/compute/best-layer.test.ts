// The best-layer kernel against values worked out by hand.
import { argmaxFinite, bestLayerPerScope, bestLayerPerVoxel, valuesAtChosenLayer } from '../../src/compute/sweep/best-layer';

describe('best layer by cross-validated score', () => {
  it('takes the largest finite value, the earlier layer on ties, -1 when nothing is finite', () => {
    expect(argmaxFinite([0.1, 0.3, 0.2])).toBe(1);
    expect(argmaxFinite([0.3, 0.1, 0.3])).toBe(0);
    expect(argmaxFinite([NaN, -0.2, NaN, -0.1])).toBe(3);
    expect(argmaxFinite([NaN, NaN])).toBe(-1);
    expect(argmaxFinite([])).toBe(-1);
  });

  it('chooses per scope from the CV scores, whatever the test scores would have chosen', () => {
    // Three layers x three scopes (all, roi:A, roi:B). CV favours layer 0 for A and layer 2 for B.
    const cv = [
      [0.10, 0.30, 0.05],
      [0.12, 0.20, 0.10],
      [0.11, 0.10, 0.25],
    ];
    // Test scores that would have picked layer 2 for A and layer 0 for B: never seen by the kernel.
    expect(Array.from(bestLayerPerScope(cv, 3))).toEqual([1, 0, 2]);
    expect(Array.from(bestLayerPerScope([[NaN], [NaN]], 1))).toEqual([-1]);
  });

  it('chooses per voxel and reads other maps at the chosen layer', () => {
    const cvMaps = [
      Float32Array.from([0.5, 0.1, NaN, NaN]),
      Float32Array.from([0.2, 0.4, 0.3, NaN]),
      Float32Array.from([0.5, 0.0, 0.1, NaN]),
    ];
    const choice = bestLayerPerVoxel(cvMaps);
    expect(Array.from(choice.layer)).toEqual([0, 1, 1, NaN]);
    expect(Array.from(choice.cvScore)).toEqual([0.5, Math.fround(0.4), Math.fround(0.3), NaN]);
    const testR = [Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6, 7, 8]), Float32Array.from([9, 10, 11, 12])];
    expect(Array.from(valuesAtChosenLayer(testR, choice.layer))).toEqual([1, 6, 7, NaN]);
    expect(() => bestLayerPerVoxel([new Float32Array(3), new Float32Array(4)])).toThrow(/voxels/);
  });
});
