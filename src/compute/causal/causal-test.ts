// One causal test of one concept: the encoder predicts every stimulus's response in voxel batches
// (one ONNX Runtime affine product per batch, so memory stays bounded at any voxel count), each
// batch's contrasts are computed on the discovery and held-out halves, ROI means are accumulated,
// and once every voxel is seen the decision rule classifies voxels and ROIs.
import { affine, matrix, type Engine, type Matrix } from '../onnx';
import { classify, type Classification, type Thresholds } from './classify';
import { designContrasts, type DesignContrasts } from './contrasts';
import { splitDesign, type CausalDesign, type DesignSplit } from './design';

export interface CausalTestInput {
  /** Features of the concept's stimuli, (n_stimuli, d), rows as the design refers to them. */
  features: Matrix<Float32Array>;
  /** Encoder weights with the intercept as the last row, (d + 1, n_voxels): prediction = [x, 1] @ W. */
  weights: Matrix<Float32Array>;
  /** L2-normalise feature rows first (in-context encoders read unit-norm embeddings). */
  unitNormFeatures: boolean;
  design: CausalDesign;
  splitSeed: number;
  heldOutFraction?: number;
  rois: { name: string; voxels: ArrayLike<number> }[];
  thresholds: Thresholds;
  /** Voxels predicted per ONNX Runtime call (default 4096). */
  voxelBatch?: number;
  /** Pairs kept per unit for follow-up designs, largest predicted effect first (default 5). */
  topPairs?: number;
  onProgress?: (fraction: number, message: string) => Promise<void>;
}

export interface UnitResults {
  discovery: DesignContrasts;
  heldOut: DesignContrasts;
  classification: Classification;
  /** Per unit, the `topPairs` pair indices (into design.positives) with the largest predicted difference, and those differences. */
  topPairIndex: Int32Array;
  topPairDiff: Float64Array;
}

export interface CausalTestOutcome {
  split: DesignSplit;
  nVoxels: number;
  topPairs: number;
  voxels: UnitResults;
  rois: UnitResults & { names: string[]; sizes: number[] };
  timings: { predictSeconds: number; statsSeconds: number };
}

/** Full-length contrast arrays filled batch by batch. */
function emptyContrasts(n: number, groups: number): DesignContrasts {
  const c = () => ({ effect: new Float64Array(n), p: new Float64Array(n) });
  const f = () => new Float64Array(n);
  return { activation: c(), causal: { ...c(), meanDiff: f(), sdDiff: f(), sdAverage: f(), dz: f() }, distractors: Array.from({ length: groups }, c) };
}

function place(target: DesignContrasts, part: DesignContrasts, offset: number): void {
  target.activation.effect.set(part.activation.effect, offset);
  target.activation.p.set(part.activation.p, offset);
  for (const key of ['effect', 'p', 'meanDiff', 'sdDiff', 'sdAverage', 'dz'] as const) target.causal[key].set(part.causal[key], offset);
  part.distractors.forEach((d, g) => {
    target.distractors[g].effect.set(d.effect, offset);
    target.distractors[g].p.set(d.p, offset);
  });
}

/** For each column, the k pairs with the largest y[pos] - y[cf] (insertion into a short sorted list). */
function topPairsOf(y: Matrix<Float32Array | Float64Array>, design: CausalDesign, k: number, outIndex: Int32Array, outDiff: Float64Array, offset: number) {
  const c = y.cols;
  const nPairs = design.positives.length;
  const idx = new Int32Array(k);
  const val = new Float64Array(k);
  for (let j = 0; j < c; j++) {
    idx.fill(-1);
    val.fill(-Infinity);
    for (let i = 0; i < nPairs; i++) {
      const diff = y.data[design.positives[i] * c + j] - y.data[design.counterfactuals[i] * c + j];
      if (!(diff > val[k - 1])) continue;
      let r = k - 1;
      while (r > 0 && diff > val[r - 1]) {
        val[r] = val[r - 1];
        idx[r] = idx[r - 1];
        r--;
      }
      val[r] = diff;
      idx[r] = i;
    }
    for (let r = 0; r < k; r++) {
      outIndex[(offset + j) * k + r] = idx[r];
      outDiff[(offset + j) * k + r] = idx[r] >= 0 ? val[r] : NaN;
    }
  }
}

function unitNormalised(x: Matrix<Float32Array>): Matrix<Float32Array> {
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < x.rows; i++) {
    let ss = 0;
    for (let j = 0; j < x.cols; j++) ss += x.data[i * x.cols + j] ** 2;
    const s = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let j = 0; j < x.cols; j++) out[i * x.cols + j] = x.data[i * x.cols + j] * s;
  }
  return matrix(out, x.rows, x.cols);
}

export async function runCausalTest(engine: Engine, input: CausalTestInput): Promise<CausalTestOutcome> {
  const d = input.features.cols;
  const V = input.weights.cols;
  if (input.weights.rows !== d + 1) throw new RangeError(`weights have ${input.weights.rows} rows; features of width ${d} need ${d + 1} (intercept last)`);
  const x = input.unitNormFeatures ? unitNormalised(input.features) : input.features;
  const n = x.rows;
  const k = input.topPairs ?? 5;
  const batch = Math.max(1, input.voxelBatch ?? 4096);
  const split = splitDesign(input.design, input.splitSeed, input.heldOutFraction ?? 0.5);
  const groups = input.design.distractors.length;
  const disc = emptyContrasts(V, groups);
  const held = emptyContrasts(V, groups);
  const topIndex = new Int32Array(V * k);
  const topDiff = new Float64Array(V * k);

  // Voxel -> ROIs it belongs to, for the ROI-mean responses.
  const nRoi = input.rois.length;
  const roiOf: number[][] = Array.from({ length: V }, () => []);
  input.rois.forEach((roi, r) => {
    for (let i = 0; i < roi.voxels.length; i++) roiOf[roi.voxels[i]].push(r);
  });
  const roiSums = new Float64Array(n * nRoi);
  const timings = { predictSeconds: 0, statsSeconds: 0 };

  for (let v0 = 0; v0 < V; v0 += batch) {
    const vb = Math.min(batch, V - v0);
    const w = new Float32Array(d * vb);
    for (let r = 0; r < d; r++) w.set(input.weights.data.subarray(r * V + v0, r * V + v0 + vb), r * vb);
    const bias = input.weights.data.slice(d * V + v0, d * V + v0 + vb);
    let t0 = performance.now();
    const y = await affine(engine, x, matrix(w, d, vb), bias);
    timings.predictSeconds += (performance.now() - t0) / 1000;
    t0 = performance.now();
    place(disc, designContrasts(y, split.discovery), v0);
    place(held, designContrasts(y, split.heldOut), v0);
    topPairsOf(y, input.design, k, topIndex, topDiff, v0);
    for (let j = 0; j < vb; j++) {
      const member = roiOf[v0 + j];
      if (!member.length) continue;
      for (let i = 0; i < n; i++) {
        const value = y.data[i * vb + j];
        for (const r of member) roiSums[i * nRoi + r] += value;
      }
    }
    timings.statsSeconds += (performance.now() - t0) / 1000;
    await input.onProgress?.((v0 + vb) / V, `predicted and tested ${v0 + vb} of ${V} voxels`);
  }

  const sizes = input.rois.map((r) => r.voxels.length);
  const roiMeans = matrix(roiSums.map((s, i) => s / Math.max(1, sizes[i % nRoi])), n, nRoi);
  const roiTopIndex = new Int32Array(nRoi * k);
  const roiTopDiff = new Float64Array(nRoi * k);
  topPairsOf(roiMeans, input.design, k, roiTopIndex, roiTopDiff, 0);
  const roiDisc = designContrasts(roiMeans, split.discovery);
  const roiHeld = designContrasts(roiMeans, split.heldOut);
  return {
    split,
    nVoxels: V,
    topPairs: k,
    voxels: { discovery: disc, heldOut: held, classification: classify(disc, held, input.thresholds), topPairIndex: topIndex, topPairDiff: topDiff },
    rois: {
      names: input.rois.map((r) => r.name),
      sizes,
      discovery: roiDisc,
      heldOut: roiHeld,
      classification: classify(roiDisc, roiHeld, input.thresholds),
      topPairIndex: roiTopIndex,
      topPairDiff: roiTopDiff,
    },
    timings,
  };
}
