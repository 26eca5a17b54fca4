// Checking candidates on measured responses, where the subject saw some of the concept's
// stimuli: the paired causal contrast (positives vs their own counterfactuals, every pair with
// both images measured) per validated voxel and per validated ROI mean, Benjamini-Hochberg over
// those candidates. A candidate holds when its q <= fdrQ and the concept raises the response.
import type { Matrix } from '../onnx';
import { pairedMoments } from './contrasts';
import { bhQValues, pairedT } from './stats';
import type { MeasuredOutcome } from './summary';

/** Paired tests of the given columns; returns whether each holds. */
function holds(m: Matrix<Float32Array | Float64Array>, pos: Int32Array, cf: Int32Array, fdrQ: number): boolean[] {
  const diff = pairedMoments(m, pos, cf);
  const p = Array.from(diff.mean, (mean, j) => pairedT(mean, Math.sqrt(diff.variance[j]), diff.n).p);
  const q = bhQValues(p);
  return Array.from(diff.mean, (mean, j) => q[j] <= fdrQ && mean > 0);
}

function columns(m: Matrix<Float32Array>, cols: number[]): Matrix<Float64Array> {
  const out = new Float64Array(m.rows * cols.length);
  for (let i = 0; i < m.rows; i++) cols.forEach((c, k) => (out[i * cols.length + k] = m.data[i * m.cols + c]));
  return { data: out, rows: m.rows, cols: cols.length };
}

/**
 * measured: (n_measured, n_voxels), repeat-averaged; rowOf[designRow] is its row in `measured`
 * or -1. Returns null when fewer than 3 pairs are measured.
 */
export function checkMeasured(args: {
  responseSetId: string;
  measured: Matrix<Float32Array>;
  rowOf: Int32Array;
  positives: Int32Array;
  counterfactuals: Int32Array;
  validatedVoxels: number[];
  rois: { name: string; voxels: ArrayLike<number> }[];
  validatedRois: boolean[];
  fdrQ: number;
}): MeasuredOutcome | null {
  const pos: number[] = [];
  const cf: number[] = [];
  args.positives.forEach((p, i) => {
    const a = args.rowOf[p];
    const b = args.rowOf[args.counterfactuals[i]];
    if (a >= 0 && b >= 0) {
      pos.push(a);
      cf.push(b);
    }
  });
  if (pos.length < 3) return null;
  const P = Int32Array.from(pos);
  const C = Int32Array.from(cf);
  const voxelHolds = new Map<number, boolean>();
  if (args.validatedVoxels.length) {
    const h = holds(columns(args.measured, args.validatedVoxels), P, C, args.fdrQ);
    args.validatedVoxels.forEach((v, k) => voxelHolds.set(v, h[k]));
  }
  const candidates = args.rois.map((_, j) => j).filter((j) => args.validatedRois[j]);
  const roiHolds: (boolean | null)[] = args.rois.map(() => null);
  if (candidates.length) {
    const m = args.measured;
    const means = new Float64Array(m.rows * candidates.length);
    candidates.forEach((j, k) => {
      const vox = args.rois[j].voxels;
      for (let i = 0; i < m.rows; i++) {
        let s = 0;
        for (let t = 0; t < vox.length; t++) s += m.data[i * m.cols + vox[t]];
        means[i * candidates.length + k] = s / vox.length;
      }
    });
    const h = holds({ data: means, rows: m.rows, cols: candidates.length }, P, C, args.fdrQ);
    candidates.forEach((j, k) => (roiHolds[j] = h[k]));
  }
  const nStimuli = Array.from(args.rowOf).filter((r) => r >= 0).length;
  return { responseSetId: args.responseSetId, nStimuli, nPairs: pos.length, voxelHolds, roiHolds };
}
