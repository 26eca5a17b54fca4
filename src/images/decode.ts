// Turning an image file into the pixels a model sees: 8-bit sRGB RGB, rows top to bottom, pixels
// interleaved (HWC). One rule for every file, so two labs uploading the same image feed a model
// the same tensor:
//   - only JPEG, PNG and WebP are accepted (what stimulus sets ship; no SVG/TIFF/GIF surprises);
//   - the EXIF orientation is applied (a phone photo tagged "rotate 90" is shown upright, as the
//     subject saw it); width and height are reported after it;
//   - grayscale is replicated to three channels, palettes are expanded, CMYK (JPEGs from print
//     workflows) and embedded ICC profiles are converted to sRGB by libvips' colour management,
//     (PIL's convert('RGB') inverts CMYK inks without colour management, so CMYK JPEGs are the one
//     case where features differ from a PIL pipeline: up to 97 levels on the test image);
//     16-bit samples keep their high byte (v >> 8, as libvips and PIL both do);
//   - alpha is composited over mid-grey (128, 128, 128): fMRI experiments (NSD, THINGS, BOLD5000)
//     show images on a mid-grey screen, so a transparent pixel was seen as grey, and grey sits at
//     the centre of the value range after ImageNet/CLIP normalisation instead of at an extreme;
//   - images above `maxPixels` (width x height before decoding) are refused: a 100-byte PNG can
//     declare 50,000 x 50,000 pixels and would otherwise take gigabytes (a decompression bomb);
//   - a truncated or corrupt file is refused rather than decoded with grey blocks.
import sharp from 'sharp';

export type ImageFormat = 'jpeg' | 'png' | 'webp';

export const ACCEPTED_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'webp'];

/** The background alpha is composited over, in 8-bit sRGB. */
export const ALPHA_BACKGROUND = { r: 128, g: 128, b: 128 } as const;

/** Default pixel limit: 64 megapixels (e.g. 8000 x 8000), far above any stimulus image. */
export const DEFAULT_MAX_PIXELS = 64_000_000;

export interface DecodeOptions {
  maxPixels?: number;
}

/** Decoded pixels: `pixels` has width * height * 3 bytes, RGB interleaved, rows top to bottom. */
export interface DecodedImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  format: ImageFormat;
}

/** What the file says about itself, without decoding the pixels. */
export interface ImageInfo {
  format: ImageFormat;
  /** After EXIF orientation. */
  width: number;
  height: number;
  /** Colour space as stored ('srgb', 'b-w', 'cmyk', ...), with bits per sample. */
  space: string;
  bitsPerSample: number;
  hasAlpha: boolean;
  /** EXIF orientation tag (1 when absent). */
  orientation: number;
}

/** An image the rule refuses; `reason` is a stable word for reports, the message says what to do. */
export class ImageDecodeError extends Error {
  constructor(
    readonly reason: 'not-an-image' | 'unsupported-format' | 'too-many-pixels' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

const BIT_DEPTH: Record<string, number> = { uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, double: 64 };

/** Reads the header: format, size after orientation, colour space. Refuses non-images and bombs. */
export async function inspectImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<ImageInfo> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError('not-an-image', `not an image file (${firstLine(err)}); upload a JPEG, PNG or WebP`);
  }
  const format = meta.format as string;
  if (!ACCEPTED_FORMATS.includes(format as ImageFormat))
    throw new ImageDecodeError('unsupported-format', `a ${format} file; stimulus images must be JPEG, PNG or WebP (convert it first)`);
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > maxPixels)
    throw new ImageDecodeError('too-many-pixels', `${w} x ${h} = ${w * h} pixels is above the limit of ${maxPixels} pixels (a decompression bomb, or an image to downscale before upload)`);
  const orientation = meta.orientation ?? 1;
  const swap = orientation >= 5 && orientation <= 8;
  return {
    format: format as ImageFormat,
    width: swap ? h : w,
    height: swap ? w : h,
    space: meta.space ?? 'unknown',
    bitsPerSample: BIT_DEPTH[meta.depth ?? 'uchar'] ?? 8,
    hasAlpha: meta.hasAlpha ?? false,
    orientation,
  };
}

/**
 * The decoding pipeline of the rule above, ready for further libvips steps (resize, crop) before
 * the pixels are read out. The caller ends it with `.raw({ depth: 'uchar' })`.
 */
export function decodingPipeline(bytes: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): sharp.Sharp {
  return sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true })
    .rotate()
    .toColourspace('srgb')
    .flatten({ background: ALPHA_BACKGROUND });
}

/** Decodes by the rule above. Throws ImageDecodeError with an actionable message. */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedImage> {
  const info = await inspectImage(bytes, options);
  const { data, info: out } = await readPixels(decodingPipeline(bytes, options.maxPixels));
  return { pixels: data, width: out.width, height: out.height, format: info.format };
}

/** Runs a pipeline to 8-bit RGB, turning libvips' failures into ImageDecodeError. */
export async function readPixels(pipeline: sharp.Sharp): Promise<{ data: Uint8Array; info: { width: number; height: number } }> {
  try {
    const { data, info } = await pipeline.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoder returned ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    const text = firstLine(err);
    if (/pixel limit/i.test(text)) throw new ImageDecodeError('too-many-pixels', `the image is above the pixel limit (${text})`);
    throw new ImageDecodeError('corrupt', `the image data is truncated or corrupt (${text}); re-export or re-download the file`);
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0].trim();
}
