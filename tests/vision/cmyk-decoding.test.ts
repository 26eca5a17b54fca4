// CMYK JPEGs: the one colour mode where BrainAlign's decoding rule departs from PIL on purpose.
// libvips converts CMYK to sRGB through an ICC profile (the file's own, else its built-in CMYK
// profile); PIL's convert('RGB') inverts the inks without colour management:
// R = (255 - C)(255 - K) / 255 (rounded), likewise G from M and B from Y. Both are checked against
// the PIL decode committed by scripts/fixtures/vision_reference.py (Pillow 9.4).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../../src/images/decode';
import { decodeNpy } from '../../src/storage';

const FIX = join(__dirname, '../fixtures/vision');
const file = readFileSync(join(FIX, 'images', '05-cmyk.jpg'));
const pil = decodeNpy(new Uint8Array(readFileSync(join(FIX, 'decoded', '05-cmyk.npy')))).data as Uint8Array;

test('PIL\'s CMYK rule is the naive ink inversion of the stored samples, exactly', async () => {
  const { data, info } = await sharp(file).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(4);
  const n = info.width * info.height;
  expect(pil.length).toBe(3 * n);
  let max = 0;
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(Math.round(((255 - data[i * 4 + c]) * (255 - data[i * 4 + 3])) / 255) - pil[i * 3 + c]));
  expect(max).toBe(0);
});

test('libvips\' colour-managed conversion differs from PIL by the measured amounts', async () => {
  const meta = await sharp(file).metadata();
  // The fixture carries no ICC profile: libvips uses its built-in CMYK profile.
  expect(meta).toMatchObject({ space: 'cmyk', channels: 4 });
  expect(meta.icc).toBeUndefined();
  const d = await decodeImage(file);
  const n = d.width * d.height;
  const perChannel = [0, 1, 2].map((c) => {
    let max = 0;
    let abs = 0;
    let signed = 0;
    for (let i = 0; i < n; i++) {
      const x = d.pixels[i * 3 + c] - pil[i * 3 + c];
      max = Math.max(max, Math.abs(x));
      abs += Math.abs(x);
      signed += x;
    }
    return { max, meanAbs: abs / n, meanSigned: signed / n };
  });
  // Measured (libvips 8.x via sharp, Pillow 9.4): max 44 / 77 / 97 levels, mean |diff| 4.8 / 15.7 /
  // 18.8, mean signed -1.1 / -10.8 / -10.9 (R / G / B): the profile gives darker, less saturated
  // greens and blues than plain inversion. Bounds leave one level of room for libvips versions.
  const bounds = [
    { max: 45, meanAbs: 5.5 },
    { max: 78, meanAbs: 16.5 },
    { max: 98, meanAbs: 19.5 },
  ];
  perChannel.forEach((m, c) => {
    expect(m.max).toBeLessThanOrEqual(bounds[c].max);
    expect(m.meanAbs).toBeLessThanOrEqual(bounds[c].meanAbs);
    expect(m.meanSigned).toBeLessThan(0);
  });
  // It is a different rule, not noise: most pixels differ by more than a rounding level.
  expect(perChannel[2].meanAbs).toBeGreaterThan(10);
});
