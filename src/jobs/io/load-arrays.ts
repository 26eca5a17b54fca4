// Loading catalogued arrays for fitting: features and (repeat-averaged) responses, with their rows
// routed straight into train and test matrices so nothing is held twice.
import type { Artifact } from '../../generated/prisma/client';
import { RunInputError, type JobContext } from '../../runs/types';
import { formatShape } from '../../storage';
import { matrix, type Matrix } from '../../compute/onnx';
import { openArraySource, readSlabRows } from './array-source';

export interface Split {
  /** Row positions (in stimulus-set order) of the training and test stimuli. */
  train: Int32Array;
  test: Int32Array;
}

export interface SplitMatrices {
  train: Matrix<Float32Array>;
  test: Matrix<Float32Array>;
}

/** Maps each row position to [which matrix (0 train, 1 test), row within it]. */
function routing(split: Split, nRows: number): Int32Array {
  const route = new Int32Array(nRows * 2).fill(-1);
  split.train.forEach((pos, i) => {
    route[2 * pos] = 0;
    route[2 * pos + 1] = i;
  });
  split.test.forEach((pos, i) => {
    route[2 * pos] = 1;
    route[2 * pos + 1] = i;
  });
  return route;
}

/**
 * Reads a [n_stimuli, d] or [n_repeats, n_stimuli, d] array into train/test matrices; repeats
 * are averaged (the usual NSD practice of scoring on the mean of the three presentations).
 */
export async function loadSplit(ctx: JobContext, artifact: Artifact, npzMember: string | null, split: Split, nRows: number): Promise<SplitMatrices> {
  const source = await openArraySource(ctx.store, artifact, npzMember);
  try {
    const shape = source.header.shape;
    if (shape.length !== 2 && shape.length !== 3) throw new RunInputError(`${artifact.filename} has shape ${formatShape(shape)}; expected 2 or 3 dimensions`);
    const [nReps, rows, cols] = shape.length === 3 ? shape : [1, shape[0], shape[1]];
    if (rows !== nRows) throw new RunInputError(`${artifact.filename} has ${rows} stimulus rows but the stimulus set has ${nRows}`);
    const train = new Float32Array(split.train.length * cols);
    const test = new Float32Array(split.test.length * cols);
    const route = routing(split, rows);
    const scale = 1 / nReps;
    for (let r = 0; r < nReps; r++) {
      for await (const chunk of readSlabRows(source, r * rows * cols, rows, cols)) {
        for (let k = 0; k < chunk.count; k++) {
          const pos = chunk.start + k;
          const which = route[2 * pos];
          if (which < 0) continue;
          const target = which === 0 ? train : test;
          const off = route[2 * pos + 1] * cols;
          const src = chunk.data.subarray(k * cols, (k + 1) * cols);
          for (let j = 0; j < cols; j++) target[off + j] += src[j] * scale;
        }
      }
    }
    return { train: matrix(train, split.train.length, cols), test: matrix(test, split.test.length, cols) };
  } finally {
    await source.close();
  }
}

/** Reads a small float vector artifact (e.g. the per-voxel noise ceiling). */
export async function loadVector(ctx: JobContext, artifact: Artifact): Promise<Float32Array> {
  const source = await openArraySource(ctx.store, artifact, null);
  try {
    const n = source.header.shape[0];
    const out = new Float32Array(n);
    for await (const chunk of readSlabRows(source, 0, 1, n)) out.set(chunk.data);
    return out;
  } finally {
    await source.close();
  }
}
