// Result arrays a job stores as artifacts (float32 .npy), owned by the run's lab.
import { storeArtifact } from '../../domain/artifacts';
import type { JobContext } from '../../runs/types';
import { encodeNpy } from '../../storage';

/** Stores values with the given shape as float32 .npy; returns the artifact id. */
export async function saveArray(ctx: JobContext, values: ArrayLike<number>, shape: number[], filename: string): Promise<string> {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  const artifact = await storeArtifact(ctx, Buffer.from(encodeNpy({ dtype: '<f4', shape, data })), {
    filename,
    labId: ctx.run.labId,
    dtype: '<f4',
    shape,
  });
  return artifact.id;
}
