// Resizing 8-bit RGB pixels exactly as PIL's Image.resize does (Resample.c, 8 bits per channel),
// which is what torchvision's Resize runs on PIL images: a separable convolution, horizontal pass
// then vertical, with the filter stretched by the scale when shrinking (antialiasing), weights
// normalised per output pixel and quantised to 22 fractional bits, sums rounded and clipped to
// 0..255 after each pass. Matching it matters more than any resampler being "better": features
// computed here must agree with the PIL + torchvision pipelines labs already published.
// libvips' own resize (box shrink, then a kernel reduce) differs by several grey levels on
// photographs and moves sparse ReLU channels of CNNs far more than the 0.999 correlation a
// cross-pipeline comparison needs. Pure: typed arrays in, typed arrays out.

export type ResampleFilter = 'bilinear' | 'bicubic';

const FILTERS: Record<ResampleFilter, { support: number; f: (x: number) => number }> = {
  bilinear: {
    support: 1,
    f: (x) => {
      x = Math.abs(x);
      return x < 1 ? 1 - x : 0;
    },
  },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Coefficients {
  ksize: number;
  /** First input index per output index. */
  start: Int32Array;
  /** Number of taps per output index. */
  count: Int32Array;
  /** Integer weights, [outSize, ksize]. */
  weights: Float64Array;
}

function coefficients(inSize: number, outSize: number, filter: ResampleFilter): Coefficients {
  const { support: base, f } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = base * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = f((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      // normalize_coeffs_8bpc: round half away from zero.
      weights[xx * ksize + x] = Math.trunc(w < 0 ? w * ONE - 0.5 : w * ONE + 0.5);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, start, count, weights };
}

function clip8(sum: number): number {
  const v = Math.floor(sum / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Resizes [height, width, 3] 8-bit pixels to [outHeight, outWidth, 3], as PIL's resize(). */
export function resampleRgb(pixels: Uint8Array, width: number, height: number, outWidth: number, outHeight: number, filter: ResampleFilter): Uint8Array {
  if (pixels.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} bytes for ${width} x ${height} RGB, got ${pixels.length}`);
  let src = pixels;
  let w = width;
  if (outWidth !== width) {
    const c = coefficients(width, outWidth, filter);
    const out = new Uint8Array(outWidth * height * 3);
    for (let y = 0; y < height; y++) {
      const row = y * width * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        const s = c.start[xx];
        const n = c.count[xx];
        const wo = xx * c.ksize;
        let r = HALF, g = HALF, b = HALF;
        for (let x = 0; x < n; x++) {
          const k = c.weights[wo + x];
          const p = row + (s + x) * 3;
          r += src[p] * k;
          g += src[p + 1] * k;
          b += src[p + 2] * k;
        }
        const o = (y * outWidth + xx) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    src = out;
    w = outWidth;
  }
  if (outHeight !== height) {
    const c = coefficients(height, outHeight, filter);
    const out = new Uint8Array(w * outHeight * 3);
    const stride = w * 3;
    for (let yy = 0; yy < outHeight; yy++) {
      const s = c.start[yy];
      const n = c.count[yy];
      const wo = yy * c.ksize;
      const o = yy * stride;
      for (let i = 0; i < stride; i++) {
        let acc = HALF;
        for (let y = 0; y < n; y++) acc += src[(s + y) * stride + i] * c.weights[wo + y];
        out[o + i] = clip8(acc);
      }
    }
    src = out;
  }
  return src === pixels ? pixels.slice() : src;
}

/** Crops [height, width, 3] pixels to the box at (left, top) of cropWidth x cropHeight. */
export function cropRgb(pixels: Uint8Array, width: number, left: number, top: number, cropWidth: number, cropHeight: number): Uint8Array {
  const out = new Uint8Array(cropWidth * cropHeight * 3);
  for (let y = 0; y < cropHeight; y++) out.set(pixels.subarray(((top + y) * width + left) * 3, ((top + y) * width + left + cropWidth) * 3), y * cropWidth * 3);
  return out;
}
