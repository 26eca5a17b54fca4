// The preprocessing contract of a backbone: how decoded 8-bit RGB pixels become its input tensor.
// It is part of the model (a CLIP export fed ImageNet statistics gives different features), so it
// is stored with the model and recorded in every extraction's provenance.
//
//   resize 'shorter-side': the shorter side to `resizeSize` (the longer side int(resizeSize * long /
//          short), truncated, as torchvision's Resize(int) computes it), then a centre crop of
//          inputSize, offsets int(round((size - crop) / 2)) with Python's half-to-even round, as
//          torchvision's CenterCrop.
//   resize 'direct': straight to inputSize, aspect ratio not kept.
//   then x = (pixel * scale - mean[c]) / std[c] per channel, in float32, laid out [3, H, W].
//
// This module is pure (geometry and normalisation over typed arrays); the resampling itself runs
// in libvips (src/images/preprocess.ts).

export type ResizeMode = 'shorter-side' | 'direct';
export type Interpolation = 'bilinear' | 'bicubic';

export interface PreprocessContract {
  /** [H, W] of the model input. */
  inputSize: [number, number];
  resize: ResizeMode;
  /** Target of the shorter side for 'shorter-side' (>= both input dimensions); unused for 'direct'. */
  resizeSize: number | null;
  interpolation: Interpolation;
  /** Multiplies the 8-bit value before mean and std: 1/255 maps to [0, 1]. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** The preset it came from, when it did. */
  preset?: string | null;
}

export const PRESETS: Record<string, PreprocessContract> = {
  // OpenAI CLIP's transform: Resize(224, bicubic), CenterCrop(224), ToTensor, Normalize.
  clip: {
    inputSize: [224, 224],
    resize: 'shorter-side',
    resizeSize: 224,
    interpolation: 'bicubic',
    scale: 1 / 255,
    mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711],
    preset: 'clip',
  },
  // torchvision's ImageNet evaluation transform (ResNet, DINOv2): Resize(256), CenterCrop(224).
  imagenet: {
    inputSize: [224, 224],
    resize: 'shorter-side',
    resizeSize: 256,
    interpolation: 'bilinear',
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    preset: 'imagenet',
  },
};

/** A contract that cannot be used; `field` is the key at fault. */
export class PreprocessContractError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'PreprocessContractError';
  }
}

const KEYS = new Set(['preset', 'inputSize', 'resize', 'resizeSize', 'interpolation', 'scale', 'mean', 'std']);

/**
 * Reads a contract from JSON-like input: `{ preset: "clip" }`, a full contract, or a preset with
 * some keys overridden (`{ preset: "imagenet", inputSize: 518 }`). `inputSize` may be one number
 * (square) or [H, W]. Throws PreprocessContractError naming the key.
 */
export function parseContract(value: unknown): PreprocessContract {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PreprocessContractError(`the preprocessing must be a JSON object (got ${JSON.stringify(value)})`, 'preprocessing');
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).filter((k) => !KEYS.has(k));
  if (unknown.length) throw new PreprocessContractError(`unknown preprocessing key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...KEYS].join(', ')})`, unknown[0]);
  let base: Partial<PreprocessContract> = {};
  if (v.preset !== undefined && v.preset !== null) {
    const preset = PRESETS[String(v.preset)];
    if (!preset) throw new PreprocessContractError(`unknown preset ${JSON.stringify(v.preset)} (known: ${Object.keys(PRESETS).join(', ')})`, 'preset');
    base = { ...preset, inputSize: [...preset.inputSize], mean: [...preset.mean], std: [...preset.std] };
  }
  const pick = <K extends keyof PreprocessContract>(k: K) => (v[k] !== undefined ? v[k] : base[k]);
  const missing = (k: string): never => {
    throw new PreprocessContractError(`preprocessing.${k} is missing (give it, or a preset: ${Object.keys(PRESETS).join(', ')})`, k);
  };

  const sizeRaw = pick('inputSize') ?? missing('inputSize');
  const inputSize = (typeof sizeRaw === 'number' ? [sizeRaw, sizeRaw] : sizeRaw) as unknown;
  if (!Array.isArray(inputSize) || inputSize.length !== 2 || !inputSize.every((n) => Number.isInteger(n) && n >= 1 && n <= 8192))
    throw new PreprocessContractError(`preprocessing.inputSize must be a positive integer or [H, W] (got ${JSON.stringify(sizeRaw)})`, 'inputSize');
  const resize = pick('resize') ?? missing('resize');
  if (resize !== 'shorter-side' && resize !== 'direct')
    throw new PreprocessContractError(`preprocessing.resize must be "shorter-side" (shorter side to resizeSize, then centre crop) or "direct" (got ${JSON.stringify(resize)})`, 'resize');
  let resizeSize: number | null = null;
  if (resize === 'shorter-side') {
    // Overriding inputSize alone on a preset keeps the preset's crop ratio (224/256 for ImageNet).
    const raw = v.resizeSize ?? (v.inputSize !== undefined && base.resizeSize && base.inputSize ? Math.floor((base.resizeSize * inputSize[0]) / base.inputSize[0]) : base.resizeSize) ?? Math.max(...inputSize);
    if (!Number.isInteger(raw) || (raw as number) < Math.max(...inputSize))
      throw new PreprocessContractError(`preprocessing.resizeSize must be an integer >= the input size ${Math.max(...inputSize)} (the centre crop is taken from the resized image; got ${JSON.stringify(raw)})`, 'resizeSize');
    resizeSize = raw as number;
  }
  const interpolation = pick('interpolation') ?? missing('interpolation');
  if (interpolation !== 'bilinear' && interpolation !== 'bicubic')
    throw new PreprocessContractError(`preprocessing.interpolation must be "bilinear" or "bicubic" (got ${JSON.stringify(interpolation)})`, 'interpolation');
  const scale = pick('scale') ?? 1 / 255;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0)
    throw new PreprocessContractError(`preprocessing.scale must be a positive number, e.g. 0.00392156862745098 (1/255) (got ${JSON.stringify(scale)})`, 'scale');
  const triple = (k: 'mean' | 'std', positive: boolean): [number, number, number] => {
    const t = pick(k) ?? missing(k);
    if (!Array.isArray(t) || t.length !== 3 || !t.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0)))
      throw new PreprocessContractError(`preprocessing.${k} must be three ${positive ? 'positive ' : ''}numbers, one per RGB channel (got ${JSON.stringify(t)})`, k);
    return [t[0], t[1], t[2]];
  };
  const mean = triple('mean', false);
  const std = triple('std', true);
  const same = base.preset && Object.keys(v).every((k) => k === 'preset');
  return { inputSize: [inputSize[0], inputSize[1]], resize, resizeSize, interpolation, scale, mean, std, preset: same ? base.preset! : null };
}

/** Where the resize and crop go for one image of width x height (pixels after EXIF orientation). */
export interface ResizePlan {
  resizeWidth: number;
  resizeHeight: number;
  cropLeft: number;
  cropTop: number;
  width: number;
  height: number;
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop uses it). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function resizePlan(width: number, height: number, c: PreprocessContract): ResizePlan {
  const [H, W] = c.inputSize;
  if (c.resize === 'direct') return { resizeWidth: W, resizeHeight: H, cropLeft: 0, cropTop: 0, width: W, height: H };
  const size = c.resizeSize!;
  let rw: number;
  let rh: number;
  if (width <= height) {
    rw = size;
    rh = Math.trunc((size * height) / width);
  } else {
    rh = size;
    rw = Math.trunc((size * width) / height);
  }
  return { resizeWidth: rw, resizeHeight: rh, cropLeft: roundHalfEven((rw - W) / 2), cropTop: roundHalfEven((rh - H) / 2), width: W, height: H };
}

/**
 * Normalises H x W x 3 interleaved 8-bit pixels into `out` at `offset` as [3, H, W] float32:
 * (pixel * scale - mean[c]) / std[c], each step rounded to float32 as PyTorch does it.
 */
export function normalizeInto(pixels: Uint8Array, height: number, width: number, c: PreprocessContract, out: Float32Array, offset = 0): void {
  const n = height * width;
  if (pixels.length !== n * 3) throw new RangeError(`expected ${n * 3} bytes for ${height} x ${width} RGB, got ${pixels.length}`);
  if (out.length < offset + 3 * n) throw new RangeError(`output has room for ${out.length - offset} values, needs ${3 * n}`);
  const f = Math.fround;
  for (let ch = 0; ch < 3; ch++) {
    // A table per channel: 256 values computed once, in PyTorch's order of float32 operations.
    const table = new Float32Array(256);
    const mean = f(c.mean[ch]);
    const std = f(c.std[ch]);
    // ToTensor divides by 255; any other scale multiplies.
    const isDiv255 = Math.abs(c.scale - 1 / 255) < 1e-15;
    for (let v = 0; v < 256; v++) table[v] = f(f((isDiv255 ? f(v / 255) : f(v * f(c.scale))) - mean) / std);
    const base = offset + ch * n;
    for (let i = 0; i < n; i++) out[base + i] = table[pixels[i * 3 + ch]];
  }
}
