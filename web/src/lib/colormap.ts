// Colour scales of the brain maps. Maps with values of both signs use a diverging scale
// symmetric about 0 (ColorBrewer RdBu: blue below, near-white at 0, red above), so 0 is neutral
// whatever the range; maps of one sign use viridis from their min to their max.
export type Rgb = [number, number, number];

const RDBU: Rgb[] = [
  [33, 102, 172],
  [103, 169, 207],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [239, 138, 98],
  [178, 24, 43],
];
const VIRIDIS: Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
/** Outside the mask, and voxels of the mask without a value (NaN). */
export const OUTSIDE: Rgb = [40, 40, 40];
export const NO_VALUE: Rgb = [150, 150, 150];

export interface ColourScale {
  kind: 'diverging' | 'sequential';
  low: number;
  high: number;
  stops: Rgb[];
}

export function scaleFor(min: number | null, max: number | null): ColourScale {
  const lo = min ?? 0;
  const hi = max ?? 0;
  if (lo < 0 && hi > 0) {
    const limit = Math.max(-lo, hi);
    return { kind: 'diverging', low: -limit, high: limit, stops: RDBU };
  }
  return { kind: 'sequential', low: lo, high: hi > lo ? hi : lo + 1, stops: VIRIDIS };
}

/** The colour of a value: linear between the stops, clamped to the scale's ends. */
export function colourOf(scale: ColourScale, value: number): Rgb {
  if (!Number.isFinite(value)) return NO_VALUE;
  const t = Math.min(1, Math.max(0, (value - scale.low) / (scale.high - scale.low)));
  const x = t * (scale.stops.length - 1);
  const i = Math.min(scale.stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [scale.stops[i], scale.stops[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as Rgb;
}

export const css = ([r, g, b]: Rgb) => `rgb(${r}, ${g}, ${b})`;
