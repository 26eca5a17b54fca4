// Writes one session's masked betas into the [n_repeats, n_stimuli, n_voxels] float32 .npy being
// assembled on local disk: each kept trial goes straight to its (repeat, stimulus) row, so the
// worker holds one volume (or one slab of voxels) at a time, never a session or the result.
import type { FileHandle } from 'node:fs/promises';

export class SessionWriter {
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly row: Float32Array;
  private trials = 0;

  /**
   * `slots[t]`: the row (repeat * n_stimuli + stimulus) trial t goes to, or -1. `dataOffset`: where
   * the .npy data starts in `file`. `voxels[v]`: the volume position (NIfTI order) of voxel v.
   */
  constructor(
    private readonly file: FileHandle,
    private readonly dataOffset: number,
    private readonly voxels: Int32Array,
    private readonly slots: Int32Array,
    private readonly zscore: boolean,
  ) {
    const V = voxels.length;
    this.sum = new Float64Array(V);
    this.sumSq = new Float64Array(V);
    this.row = new Float32Array(V);
  }

  private offset(slot: number, firstVoxel = 0): number {
    return this.dataOffset + (slot * this.voxels.length + firstVoxel) * 4;
  }

  /** Trial t's whole volume (NIfTI order, x fastest), values times `scale`. */
  async addVolume(t: number, volume: ArrayLike<number>, scale = 1): Promise<void> {
    const { row, voxels, sum, sumSq } = this;
    for (let v = 0; v < voxels.length; v++) {
      const x = volume[voxels[v]] * scale;
      row[v] = x;
      sum[v] += x;
      sumSq[v] += x * x;
    }
    this.trials = Math.max(this.trials, t + 1);
    const slot = t < this.slots.length ? this.slots[t] : -1;
    if (slot >= 0) await this.file.write(row, 0, row.byteLength, this.offset(slot));
  }

  /**
   * After the last volume: z-scores each voxel over the session's trials (mean and SD with ddof 0,
   * as scipy.stats.zscore; a voxel constant over the session becomes 0) by rewriting the kept rows.
   */
  async finishVolumes(): Promise<void> {
    if (!this.zscore) return;
    const n = this.trials;
    const V = this.voxels.length;
    const mean = new Float64Array(V);
    const inv = new Float64Array(V);
    for (let v = 0; v < V; v++) {
      mean[v] = this.sum[v] / n;
      const variance = Math.max(0, this.sumSq[v] / n - mean[v] * mean[v]);
      inv[v] = variance > 0 ? 1 / Math.sqrt(variance) : 0;
    }
    const row = this.row;
    for (let t = 0; t < Math.min(n, this.slots.length); t++) {
      const slot = this.slots[t];
      if (slot < 0) continue;
      await this.file.read(row, 0, row.byteLength, this.offset(slot));
      for (let v = 0; v < V; v++) row[v] = (row[v] - mean[v]) * inv[v];
      await this.file.write(row, 0, row.byteLength, this.offset(slot));
    }
  }

  /**
   * Every trial of the contiguous voxels [v0, v1): series[(v - v0) * nTrials + t], already scaled.
   * Z-scored here (the whole series is at hand), then each kept trial's segment is written.
   */
  async addVoxelSeries(v0: number, v1: number, series: Float64Array, nTrials: number): Promise<void> {
    const nv = v1 - v0;
    const out = new Float32Array(nTrials * nv);
    for (let k = 0; k < nv; k++) {
      const base = k * nTrials;
      let m = 0;
      let inv = 1;
      if (this.zscore) {
        let s = 0;
        for (let t = 0; t < nTrials; t++) s += series[base + t];
        m = s / nTrials;
        let ss = 0;
        for (let t = 0; t < nTrials; t++) ss += (series[base + t] - m) ** 2;
        inv = ss > 0 ? 1 / Math.sqrt(ss / nTrials) : 0;
      }
      for (let t = 0; t < nTrials; t++) out[t * nv + k] = (series[base + t] - m) * inv;
    }
    for (let t = 0; t < Math.min(nTrials, this.slots.length); t++) {
      const slot = this.slots[t];
      if (slot >= 0) await this.file.write(out, t * nv * 4, nv * 4, this.offset(slot, v0));
    }
  }
}
