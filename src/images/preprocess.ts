// Image file -> model input tensor, in one libvips pipeline per image: decode by the rule of
// ./decode, resize and crop by the contract's plan (src/compute/vision/preprocess.ts), then
// normalise into the caller's batch buffer. libvips runs each pipeline on its own threads, so
// several images in flight keep the cores busy while ONNX Runtime works on the previous batch.
import sharp from 'sharp';
import { normalizeInto, resizePlan, type PreprocessContract } from '../compute/vision/preprocess';
import { decodingPipeline, inspectImage, readPixels, type DecodeOptions, type DecodedImage } from './decode';

const KERNEL = { bilinear: 'linear', bicubic: 'cubic' } as const;

/** Resizes and crops decoded pixels by the contract: [H, W, 3] 8-bit, before normalisation. */
export async function resizeForModel(image: DecodedImage, c: PreprocessContract): Promise<Uint8Array> {
  const plan = resizePlan(image.width, image.height, c);
  const pipeline = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
  return (await readPixels(resizeAndCrop(pipeline, plan, c))).data;
}

function resizeAndCrop(pipeline: sharp.Sharp, plan: ReturnType<typeof resizePlan>, c: PreprocessContract): sharp.Sharp {
  return pipeline
    .resize(plan.resizeWidth, plan.resizeHeight, { fit: 'fill', kernel: KERNEL[c.interpolation], fastShrinkOnLoad: false })
    .extract({ left: plan.cropLeft, top: plan.cropTop, width: plan.width, height: plan.height });
}

/**
 * Decodes, resizes, crops and normalises one image file into `out` at `offset` ([3, H, W]).
 * Throws ImageDecodeError for files the decoding rule refuses.
 */
export async function preprocessImageFile(bytes: Uint8Array, c: PreprocessContract, out: Float32Array, offset = 0, options: DecodeOptions = {}): Promise<void> {
  const info = await inspectImage(bytes, options);
  const plan = resizePlan(info.width, info.height, c);
  const { data } = await readPixels(resizeAndCrop(decodingPipeline(bytes, options.maxPixels), plan, c));
  normalizeInto(data, plan.height, plan.width, c, out, offset);
}
