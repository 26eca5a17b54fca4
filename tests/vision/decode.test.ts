// The decoding rule's refusals and the preprocessing contract's parsing, against values worked
// out by hand (torchvision's Resize/CenterCrop arithmetic, PIL's resampling identities).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseContract, PRESETS, resizePlan, roundHalfEven, normalizeInto } from '../../src/compute/vision/preprocess';
import { resampleRgb } from '../../src/compute/vision/resample';
import { decodeImage, ImageDecodeError, inspectImage } from '../../src/images/decode';

const FIX = join(__dirname, '../fixtures/vision/images');

describe('decodeImage refuses what it cannot decode faithfully', () => {
  test('not an image', async () => {
    await expect(decodeImage(Buffer.from('hello, not a picture'))).rejects.toMatchObject({ reason: 'not-an-image', message: expect.stringContaining('JPEG, PNG or WebP') });
  });
  test('a truncated JPEG', async () => {
    const jpeg = readFileSync(join(FIX, '12-nsd-size.jpg'));
    await expect(decodeImage(jpeg.subarray(0, Math.floor(jpeg.length / 2)))).rejects.toMatchObject({ reason: 'corrupt', message: expect.stringContaining('truncated or corrupt') });
  });
  test('a decompression bomb: pixel count checked from the header', async () => {
    const png = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: 'black' } }).png().toBuffer();
    await expect(decodeImage(png, { maxPixels: 4_000_000 })).rejects.toMatchObject({ reason: 'too-many-pixels', message: expect.stringContaining('9000000 pixels is above the limit of 4000000') });
  });
  test('formats outside JPEG, PNG, WebP', async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).gif().toBuffer();
    await expect(decodeImage(gif)).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(decodeImage(gif)).rejects.toMatchObject({ reason: 'unsupported-format' });
  });
  test('EXIF orientation swaps the reported size; alpha is composited over mid-grey', async () => {
    expect(await inspectImage(readFileSync(join(FIX, '07-exif-rotate90.jpg')))).toMatchObject({ format: 'jpeg', width: 200, height: 300, orientation: 6 });
    const clear = await sharp({ create: { width: 2, height: 1, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    expect(Array.from((await decodeImage(clear)).pixels)).toEqual([128, 128, 128, 128, 128, 128]);
  });
});

describe('preprocessing contract', () => {
  test('presets, overrides and refusals', () => {
    expect(parseContract({ preset: 'clip' })).toEqual(PRESETS.clip);
    // Overriding the size of a preset keeps its resize ratio (256 / 224 for ImageNet).
    expect(parseContract({ preset: 'imagenet', inputSize: 448 })).toMatchObject({ inputSize: [448, 448], resizeSize: 512, preset: null });
    expect(() => parseContract({ preset: 'vgg' })).toThrow(/unknown preset "vgg"/);
    expect(() => parseContract({ preset: 'clip', resizeSize: 100 })).toThrow(/resizeSize must be an integer >= the input size 224/);
    expect(() => parseContract({ inputSize: 224, resize: 'direct', interpolation: 'nearest', mean: [0, 0, 0], std: [1, 1, 1] })).toThrow(/interpolation must be "bilinear" or "bicubic"/);
    expect(() => parseContract({ preset: 'clip', std: [1, 0, 1] })).toThrow(/std must be three positive numbers/);
    expect(() => parseContract({ preset: 'clip', colour: 'x' })).toThrow(/unknown preprocessing key colour/);
  });
  test('torchvision Resize(256) + CenterCrop(224) arithmetic', () => {
    // 425 x 300: shorter side 300 -> 256, longer int(256 * 425 / 300) = 362; crop left round(69) = 69, top 16.
    expect(resizePlan(425, 300, PRESETS.imagenet)).toEqual({ resizeWidth: 362, resizeHeight: 256, cropLeft: 69, cropTop: 16, width: 224, height: 224 });
    // 225 x 224 under CLIP: crop offset round(0.5) = 0 (Python rounds half to even).
    expect(resizePlan(225, 224, PRESETS.clip)).toMatchObject({ resizeWidth: 225, cropLeft: 0 });
    expect([roundHalfEven(0.5), roundHalfEven(1.5), roundHalfEven(2.5), roundHalfEven(2.4)]).toEqual([0, 2, 2, 2]);
  });
  test('normalisation: (v / 255 - mean) / std, channels first', () => {
    const c = parseContract({ inputSize: [1, 2], resize: 'direct', interpolation: 'bilinear', mean: [0.5, 0, 0], std: [0.5, 1, 2] });
    const out = new Float32Array(6);
    normalizeInto(new Uint8Array([255, 0, 51, 0, 255, 102]), 1, 2, c, out);
    expect(Array.from(out)).toEqual([1, -1, 0, 1, Math.fround(0.1), Math.fround(0.2)]);
  });
  test('resampling: a constant image stays constant; halving by the antialiased triangle', () => {
    const flat = new Uint8Array(7 * 5 * 3).fill(77);
    expect(new Set(resampleRgb(flat, 7, 5, 3, 9, 'bicubic'))).toEqual(new Set([77]));
    // 4 -> 2 pixels, triangle stretched to support 2, clipped at the border: output 0 takes
    // inputs 0..2 with weights 0.75, 0.75, 0.25 (/1.75) = 57.1; output 1 inputs 1..3 with 0.25,
    // 0.75, 0.75 = 182.9, rounded 57 and 183 (PIL 9.4 gives the same).
    const row = new Uint8Array([0, 0, 0, 80, 80, 80, 160, 160, 160, 240, 240, 240]);
    const out = resampleRgb(row, 4, 1, 2, 1, 'bilinear');
    expect(Array.from(out)).toEqual([57, 57, 57, 183, 183, 183]);
  });
});
