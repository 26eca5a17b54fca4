// Choosing a model's best layer for a brain region, from cross-validated scores only.
//
// A layer sweep fits one encoder per layer and scores each on held-out test stimuli. Picking the
// layer with the best test score and reporting that same test score is a selection on the test
// set and inflates the result (more so with more layers). Here the choice is made on a criterion
// computed within the training stimuli (each voxel's mean validation score over the CV folds at
// its chosen alpha); the caller then reports the chosen layer's test score. Nothing in this
// module receives test scores, so the choice cannot depend on them.
//
// Ties (exactly equal scores) go to the earlier layer, the shallower of equally good
// representations; non-finite scores (empty ROIs, constant voxels) never win.

/** Index of the largest finite value, first on ties; -1 when none is finite. */
export function argmaxFinite(values: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isFinite(x) && (best < 0 || x > values[best])) best = i;
  }
  return best;
}

/**
 * Best layer per scope (ROI or all voxels).
 *
 * @param cvByLayer one row per layer (sweep order), one column per scope: that layer's
 *   cross-validated score for the scope (mean over the scope's voxels), NaN when missing.
 * @returns per scope, the index of the chosen layer, or -1 when no layer has a finite score.
 */
export function bestLayerPerScope(cvByLayer: ArrayLike<number>[], nScopes: number): Int32Array {
  const out = new Int32Array(nScopes);
  const column = new Float64Array(cvByLayer.length);
  for (let s = 0; s < nScopes; s++) {
    for (let l = 0; l < cvByLayer.length; l++) column[l] = cvByLayer[l][s];
    out[s] = argmaxFinite(column);
  }
  return out;
}

export interface VoxelLayerChoice {
  /** Chosen layer index per voxel, (n_voxels,); NaN where no layer has a finite score. */
  layer: Float32Array;
  /** The chosen layer's cross-validated score per voxel, (n_voxels,); NaN likewise. */
  cvScore: Float32Array;
}

/**
 * Best layer per voxel by its cross-validated score.
 *
 * @param cvMaps one per layer (sweep order), each (n_voxels,): the voxel's CV score.
 */
export function bestLayerPerVoxel(cvMaps: ArrayLike<number>[]): VoxelLayerChoice {
  const nVoxels = cvMaps.length ? cvMaps[0].length : 0;
  cvMaps.forEach((m, l) => {
    if (m.length !== nVoxels) throw new Error(`layer ${l} has ${m.length} voxels, layer 0 has ${nVoxels}`);
  });
  const layer = new Float32Array(nVoxels).fill(NaN);
  const cvScore = new Float32Array(nVoxels).fill(NaN);
  const best = new Float64Array(nVoxels).fill(-Infinity);
  for (let l = 0; l < cvMaps.length; l++) {
    const m = cvMaps[l];
    for (let v = 0; v < nVoxels; v++) {
      const x = m[v];
      if (Number.isFinite(x) && x > best[v]) {
        best[v] = x;
        layer[v] = l;
        cvScore[v] = x;
      }
    }
  }
  return { layer, cvScore };
}

/** Picks, per voxel, a per-layer map's value at the voxel's chosen layer (NaN where none). */
export function valuesAtChosenLayer(maps: ArrayLike<number>[], choice: Float32Array): Float32Array {
  const out = new Float32Array(choice.length).fill(NaN);
  for (let v = 0; v < choice.length; v++) {
    const l = choice[v];
    if (Number.isInteger(l) && l >= 0 && l < maps.length) out[v] = maps[l][v];
  }
  return out;
}
