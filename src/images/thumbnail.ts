// The small preview a stimulus browser shows: at most 160 pixels on the longer side, JPEG, made
// from the decoded pixels (so orientation and alpha follow the decoding rule).
import sharp from 'sharp';
import type { DecodedImage } from './decode';

export const THUMBNAIL_SIZE = 160;

export async function makeThumbnail(image: DecodedImage): Promise<Buffer> {
  return sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 82 })
    .toBuffer();
}
