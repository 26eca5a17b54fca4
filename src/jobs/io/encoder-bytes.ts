// An encoder's ONNX bytes from the artifact store. ONNX Runtime and the ModelProto decoder take
// the whole file, so it is read into memory once (and the parsed encoder cached by sha256).
import type { ArtifactStore } from '../../storage/artifact-store';

/** ONNX files are protobufs, which cannot exceed 2 GiB. */
export const MAX_ENCODER_BYTES = 2 ** 31 - 1;

export async function readEncoderBytes(store: ArtifactStore, sha256: string): Promise<Uint8Array> {
  const { size } = await store.stat(sha256);
  if (size > MAX_ENCODER_BYTES) throw new Error(`the ONNX file is ${size} bytes; ONNX models are limited to 2 GiB`);
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(sha256)) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
