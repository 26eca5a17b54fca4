// Image file -> model input tensor: decode by the rule of ./decode (libvips, on its own threads),
// then resize, crop and normalise by the contract with the pure functions of src/compute/vision
// (PIL's resampling, torchvision's crop, PyTorch's normalisation), into the caller's batch buffer.
import { normalizeInto, resizePlan, type PreprocessContract } from '../compute/vision/preprocess';
import { cropRgb, resampleRgb } from '../compute/vision/resample';
import { decodeImage, type DecodeOptions, type DecodedImage } from './decode';

/** Resizes and crops decoded pixels by the contract: [H, W, 3] 8-bit, before normalisation. */
export function resizeForModel(image: DecodedImage, c: PreprocessContract): Uint8Array {
  const plan = resizePlan(image.width, image.height, c);
  const resized = resampleRgb(image.pixels, image.width, image.height, plan.resizeWidth, plan.resizeHeight, c.interpolation);
  return cropRgb(resized, plan.resizeWidth, plan.cropLeft, plan.cropTop, plan.width, plan.height);
}

/** Normalises decoded pixels into `out` at `offset` as [3, H, W] by the contract. */
export function preprocessDecoded(image: DecodedImage, c: PreprocessContract, out: Float32Array, offset = 0): void {
  normalizeInto(resizeForModel(image, c), c.inputSize[0], c.inputSize[1], c, out, offset);
}

/**
 * Decodes, resizes, crops and normalises one image file into `out` at `offset` ([3, H, W]).
 * Throws ImageDecodeError for files the decoding rule refuses.
 */
export async function preprocessImageFile(bytes: Uint8Array, c: PreprocessContract, out: Float32Array, offset = 0, options: DecodeOptions = {}): Promise<void> {
  preprocessDecoded(await decodeImage(bytes, options), c, out, offset);
}
