// Loading chosen stimulus rows of a catalogued [n, d] or [n_repeats, n, d] array, in the order
// asked for, keeping each repeat as well as their mean (RSA's crossnobis and split-half ceilings
// need the repeats). Rows not asked for are streamed past, never held.
import type { Artifact } from '../../generated/prisma/client';
import { RunInputError, type JobContext } from '../../runs/types';
import { formatShape } from '../../storage';
import { matrix, type Matrix } from '../../compute/onnx';
import { openArraySource, readSlabRows } from './array-source';

export interface RowPatterns {
  mean: Matrix<Float32Array>;
  /** Null for 2-D arrays (one presentation) or when not kept. */
  repeats: Matrix<Float32Array>[] | null;
}

/** `positions[k]`: the stimulus-set row that becomes row k. */
export async function loadRows(ctx: JobContext, artifact: Artifact, positions: ArrayLike<number>, nRows: number, options: { keepRepeats?: boolean } = {}): Promise<RowPatterns> {
  const source = await openArraySource(ctx.store, artifact, null);
  try {
    const shape = source.header.shape;
    if (shape.length !== 2 && shape.length !== 3) throw new RunInputError(`${artifact.filename} has shape ${formatShape(shape)}; expected 2 or 3 dimensions`);
    const [nReps, rows, cols] = shape.length === 3 ? shape : [1, shape[0], shape[1]];
    if (rows !== nRows) throw new RunInputError(`${artifact.filename} has ${rows} stimulus rows but the stimulus set has ${nRows}`);
    const target = new Int32Array(rows).fill(-1);
    for (let k = 0; k < positions.length; k++) target[positions[k]] = k;
    const k = positions.length;
    const keep = options.keepRepeats && shape.length === 3;
    const repeats = keep ? Array.from({ length: nReps }, () => new Float32Array(k * cols)) : null;
    const mean = new Float32Array(k * cols);
    const scale = 1 / nReps;
    for (let r = 0; r < nReps; r++) {
      for await (const chunk of readSlabRows(source, r * rows * cols, rows, cols)) {
        for (let i = 0; i < chunk.count; i++) {
          const row = target[chunk.start + i];
          if (row < 0) continue;
          const src = chunk.data.subarray(i * cols, (i + 1) * cols);
          const off = row * cols;
          if (repeats) repeats[r].set(src, off);
          for (let j = 0; j < cols; j++) mean[off + j] += src[j] * scale;
        }
      }
    }
    return { mean: matrix(mean, k, cols), repeats: repeats ? repeats.map((d) => matrix(d, k, cols)) : null };
  } finally {
    await source.close();
  }
}
