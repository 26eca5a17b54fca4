// What a job stores: its outputs belong to no lab. They are read through the run (or set) that
// names them, so a lab that loses access to one of a run's inputs loses its outputs too, even
// when the lab submitted the run (src/domain/access.ts canReadArtifact).
import type { Readable } from 'node:stream';
import { storeArtifact } from '../../domain/artifacts';
import type { JobContext } from '../../runs/types';
import { encodeNpy } from '../../storage';

/** Stores bytes a job produced; returns the artifact row. */
export function storeOutput(ctx: JobContext, body: Readable | Buffer, meta: { filename: string; mediaType?: string; dtype?: string; shape?: number[] }) {
  return storeArtifact(ctx, body, { ...meta, labId: null });
}

/** Stores values with the given shape as float32 .npy; returns the artifact id. */
export async function saveArray(ctx: JobContext, values: ArrayLike<number>, shape: number[], filename: string): Promise<string> {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  return (await storeOutput(ctx, Buffer.from(encodeNpy({ dtype: '<f4', shape, data })), { filename, dtype: '<f4', shape })).id;
}
