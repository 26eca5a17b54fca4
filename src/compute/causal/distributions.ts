// Student t (central and noncentral) distribution functions for the causal tests, written here
// because no maintained statistics library is among the dependencies. Checked against scipy on
// committed reference values (tests/causal/stats.test.ts, scripts/fixtures/causal_stats.py).
// Math and Number through module constants: a global lookup per call is slow where the code runs
// in a vm context (Jest's test realms: ~20x here), and an integral makes thousands of such calls.
const M = Math;
const N = Number;

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Gamma(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return M.log(M.PI / M.sin(M.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * M.log(2 * M.PI) + (z + 0.5) * M.log(t) - t + M.log(a);
}

/** Continued fraction of the incomplete beta (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (M.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (M.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (M.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (M.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (M.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (M.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * M.log(x) + b * M.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (M.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (M.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(|T| >= |t|) for T ~ Student t with `df` degrees of freedom (no cancellation in the tails). */
export function tTwoSided(t: number, df: number): number {
  if (N.isNaN(t) || !(df > 0)) return NaN;
  if (!N.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** P(T <= t) for T ~ Student t with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = tTwoSided(t, df) / 2;
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student t (bisection on the CDF; used for CIs and power, not per voxel). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * M.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal CDF, through erfc(x) = Q(1/2, x^2) (regularised upper incomplete gamma). */
export function normalCdf(z: number): number {
  if (N.isNaN(z)) return NaN;
  const half = 0.5 * upperGammaRegularised(0.5, (z * z) / 2);
  return z >= 0 ? 1 - half : half;
}

/** ln P(Z <= z) for Z ~ N(0, 1), with full relative precision far into the lower tail (no underflow). */
export function logNormalCdf(z: number): number {
  if (N.isNaN(z)) return NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return -Infinity;
  if (z > 0) return M.log1p(-0.5 * upperGammaRegularised(0.5, (z * z) / 2));
  return M.log(0.5) + logUpperGammaRegularised(0.5, (z * z) / 2);
}

/** Q(a, x) = Gamma(a, x) / Gamma(a): series for x < a + 1, continued fraction beyond. */
function upperGammaRegularised(a: number, x: number): number {
  return M.exp(logUpperGammaRegularised(a, x));
}

/** ln Q(a, x), so that tails far below the smallest double keep their value. */
function logUpperGammaRegularised(a: number, x: number): number {
  if (x <= 0) return 0;
  const lnFront = a * M.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (M.abs(term) < M.abs(sum) * 1e-17) break;
    }
    return M.log1p(-sum * M.exp(lnFront));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (M.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (M.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (M.abs(delta - 1) < 1e-16) break;
  }
  return lnFront + M.log(h);
}

// ------------------------------------------------------------------ noncentral t
//
// T = (Z + delta) / S with Z ~ N(0, 1) and S = sqrt(V / df), V ~ chi^2(df), so
//   P(T <= t) = E[Phi(t S - delta)]   and   P(T > t) = E[Phi(delta - t S)].
// Both are one-dimensional integrals over the density of S, computed in log space: the integrand
// is exp(ln Phi(.) + ln f_S(s) - its maximum), the maximum added back as a logarithm. The log of the
// integrand is concave in s for df >= 1 (ln Phi is concave, ln f_S = const + (df - 1) ln s - df s^2 / 2),
// so it has one mode, found by safeguarded Newton; the integration range is where the integrand
// is within e^-46 of its mode, and adaptive Gauss-Kronrod (7-15) integrates it to ~1e-15 of the
// total. Each tail is computed directly, never as 1 minus the other, so far tails keep their
// relative precision (down to ~1e-300) at any delta and df. The twin-series algorithms (AS 243)
// sum Poisson weights exp(-delta^2 / 2) (delta / sqrt 2)^j / j! from j = 0, which underflow for
// |delta| above ~38.5 and give 0 there; this form has no such limit.

/** ln of the part of ln Gamma(a) beyond Stirling's leading terms, without their cancellation. */
function stirlingCorrection(a: number): number {
  if (a >= 8) {
    const a2 = a * a;
    return (1 / 12 - (1 / 360 - (1 / 1260 - 1 / (1680 * a2)) / a2) / a2) / a;
  }
  return logGamma(a) - ((a - 0.5) * M.log(a) - a + 0.5 * M.log(2 * M.PI));
}

/**
 * ln f_S(s) for S = sqrt(V / df), V ~ chi^2(df), a = df / 2:
 * ln 2 + a ln a - ln Gamma(a) + (2a - 1) ln s - a s^2, rearranged so that large df loses no digits.
 */
function logScaledChiDensity(s: number, a: number, constant: number): number {
  // s^2 - 1 - ln s^2 >= 0; near s = 1 through log1p so large df keeps its digits.
  const w = s * s - 1;
  const excess = M.abs(w) < 0.5 ? w - M.log1p(w) : w - 2 * M.log(s);
  return constant - a * excess - M.log(s);
}

const GK_NODES = [
  0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
  0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
  0.207784955007898467600689403773245, 0,
];
const GK_WEIGHTS = [
  0.02293532201052922496373200805897, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
  0.140653259715525918745189590510238, 0.16900472663926790282658342659855, 0.190350578064785409913256402421014,
  0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
];
const GAUSS7_WEIGHTS = [0.129484966168869693270611432679082, 0.27970539148927666790146777142378, 0.381830050505118944950369775488975, 0.417959183673469387755102040816327];

/** Integral of exp(logF) over [a, b] by Gauss-Kronrod 15 with its Gauss 7 error estimate. */
function kronrod(logF: (x: number) => number, shift: number, a: number, b: number): { value: number; error: number } {
  const mid = (a + b) / 2;
  const half = (b - a) / 2;
  let k = 0;
  let g = 0;
  for (let i = 0; i < 8; i++) {
    const x = GK_NODES[i] * half;
    const f = i === 7 ? M.exp(logF(mid) - shift) : M.exp(logF(mid - x) - shift) + M.exp(logF(mid + x) - shift);
    k += GK_WEIGHTS[i] * f;
    if (i % 2 === 1) g += GAUSS7_WEIGHTS[(i - 1) / 2] * f;
  }
  return { value: k * half, error: M.abs(k - g) * half };
}

/** ln of the integral over s > 0 of exp(logG(s)), logG concave with derivative dLogG. */
function logIntegralOfLogConcave(logG: (s: number) => number, dLogG: (s: number) => number, d2LogG: (s: number) => number, start: number): number {
  // Mode: the root of the decreasing derivative, bracketed then refined by Newton with bisection fallback.
  let lo = 0;
  let hi = start;
  while (dLogG(hi) > 0) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return NaN;
  }
  let mode: number;
  const tiny = 1e-300; // stands in for s = 0, where ln f_S may be -Infinity
  if (lo === 0 && !(dLogG(tiny) > 0)) {
    mode = 0; // the integrand decreases from s = 0 (df = 1 with t S pulling towards 0)
  } else {
    // Newton inside the bracket; a step that leaves it, or two steps that do not halve it, bisect.
    let x = (lo + hi) / 2;
    let width = hi - lo;
    for (let i = 0; i < 400 && hi - lo > 1e-15 * hi; i++) {
      const d1 = dLogG(x);
      if (d1 === 0) break;
      if (d1 > 0) lo = x;
      else hi = x;
      const d2 = d2LogG(x);
      let next = d2 < 0 ? x - d1 / d2 : NaN;
      if (!(next > lo && next < hi) || (i % 2 === 1 && hi - lo > width / 2)) next = (lo + hi) / 2;
      if (i % 2 === 1) width = hi - lo;
      x = next;
    }
    mode = x;
  }
  const peak = logG(mode > 0 ? mode : tiny);
  if (peak === -Infinity) return -Infinity;
  const curvature = -d2LogG(mode > 0 ? mode : tiny);
  const scale = curvature > 0 && N.isFinite(curvature) ? 1 / M.sqrt(curvature) : M.max(mode, 1);
  // Range where the integrand is within e^-46 of its peak (beyond, a log-concave tail adds < 1e-19):
  // doubling steps out of the mode, then bisection for the crossing, so that a sharp edge (a
  // narrow Phi step against a wide density) is where the panels are, not between their nodes.
  const drop = peak - 46;
  const above = (s: number) => (s > 0 ? logG(s) : logG(tiny)) > drop;
  const edge = (inside: number, outside: number) => {
    let a = inside;
    let b = outside;
    // The edge is needed to a small fraction of the range only (the panels adapt below it).
    for (let i = 0; i < 100 && M.abs(b - a) > 1e-3 * M.abs(b - mode); i++) {
      const mid = (a + b) / 2;
      if (above(mid)) a = mid;
      else b = mid;
    }
    return b;
  };
  let left = mode;
  for (let step = scale; left > 0; step *= 2) {
    const next = M.max(0, mode - step);
    if (!above(next)) {
      left = edge(left, next);
      break;
    }
    left = next;
  }
  let right = mode;
  for (let step = scale; ; step *= 2) {
    const next = mode + step;
    if (!above(next)) {
      right = edge(right, next);
      break;
    }
    right = next;
  }
  const f = (s: number) => (s > 0 ? logG(s) : logG(tiny));
  // Adaptive Gauss-Kronrod, starting from 8 panels on each side of the mode.
  const panels: [number, number][] = [];
  for (const [a, b] of [[left, mode], [mode, right]]) {
    if (b <= a) continue;
    for (let i = 0; i < 8; i++) panels.push([a + ((b - a) * i) / 8, a + ((b - a) * (i + 1)) / 8]);
  }
  let total = 0;
  const pending: { a: number; b: number; value: number; error: number }[] = [];
  for (const [a, b] of panels) {
    const r = kronrod(f, peak, a, b);
    total += r.value;
    pending.push({ a, b, ...r });
  }
  let result = 0;
  for (let guard = 0; pending.length && guard < 2000; guard++) {
    const p = pending.pop()!;
    if (p.error <= 1e-15 * total || p.b - p.a <= 1e-13 * M.max(M.abs(p.a), M.abs(p.b))) {
      result += p.value;
      continue;
    }
    const mid = (p.a + p.b) / 2;
    const l = kronrod(f, peak, p.a, mid);
    const r = kronrod(f, peak, mid, p.b);
    total += l.value + r.value - p.value;
    pending.push({ a: p.a, b: mid, ...l }, { a: mid, b: p.b, ...r });
  }
  for (const p of pending) result += p.value;
  return peak + M.log(result);
}

/** ln P(T <= t) (upper = false) or ln P(T > t) (upper = true) for T ~ noncentral t(df, delta). */
function nctLogTail(t: number, df: number, delta: number, upper: boolean): number {
  // P(T > t) = E[Phi(delta - t S)] = the lower tail at (-t, -delta).
  const tt = upper ? -t : t;
  const dd = upper ? -delta : delta;
  const a = df / 2;
  const constant = M.log(2) + 0.5 * M.log(a) - 0.5 * M.log(2 * M.PI) - stirlingCorrection(a);
  const mills = (z: number) => M.exp(-0.5 * z * z - 0.5 * M.log(2 * M.PI) - logNormalCdf(z));
  const logG = (s: number) => logNormalCdf(tt * s - dd) + logScaledChiDensity(s, a, constant);
  const dLogG = (s: number) => tt * mills(tt * s - dd) + (2 * a - 1) / s - 2 * a * s;
  const d2LogG = (s: number) => {
    const z = tt * s - dd;
    const m = mills(z);
    // z + m cancels far in the lower tail; there it is -1/z + 2/z^3 - 10/z^5 (Mills' ratio series).
    const zPlusM = z < -20 ? (-1 + (2 - 10 / (z * z)) / (z * z)) / z : z + m;
    return -tt * tt * m * zPlusM - (2 * a - 1) / (s * s) - 2 * a;
  };
  return logIntegralOfLogConcave(logG, dLogG, d2LogG, 1);
}

/** ln P(T <= t) for T ~ noncentral t(df, delta), exact far into the lower tail. */
export function nctLogCdf(t: number, df: number, delta: number): number {
  if (N.isNaN(t) || N.isNaN(delta) || !(df > 0)) return NaN;
  if (t === Infinity) return 0;
  if (t === -Infinity) return -Infinity;
  return nctLogTail(t, df, delta, false);
}

/** P(T > t) for T ~ noncentral t(df, delta), computed as its own tail (not 1 - cdf). */
export function nctSf(t: number, df: number, delta: number): number {
  if (N.isNaN(t) || N.isNaN(delta) || !(df > 0)) return NaN;
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const lower = roughLowerTailFirst(t, df, delta);
  if (!lower) {
    const sf = M.exp(nctLogTail(t, df, delta, true));
    if (sf <= 0.5) return sf;
  }
  return 1 - M.exp(nctLogTail(t, df, delta, false));
}

/**
 * P(T <= t) for T ~ noncentral t(df, delta), any delta and df >= 1: the smaller tail is
 * integrated directly and the larger one is 1 minus it, so both tails are right in relative terms.
 */
export function nctCdf(t: number, df: number, delta: number): number {
  if (N.isNaN(t) || N.isNaN(delta) || !(df > 0)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  if (roughLowerTailFirst(t, df, delta)) {
    const cdf = M.exp(nctLogTail(t, df, delta, false));
    if (cdf <= 0.5) return cdf;
  }
  return 1 - M.exp(nctLogTail(t, df, delta, true));
}

/** Whether t is below the median (normal approximation): the lower tail is then the smaller one. */
function roughLowerTailFirst(t: number, df: number, delta: number): boolean {
  return t - delta < 0;
}

/**
 * The p-quantile of the noncentral t: the x with nctCdf(x) = p, by bisection on whichever tail
 * is smaller (compared on the log scale, so p down to ~1e-300 works).
 */
export function nctQuantile(p: number, df: number, delta: number): number {
  if (!(p > 0 && p < 1) || !(df > 0) || !N.isFinite(delta)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  const lowerTail = p <= 0.5;
  const target = lowerTail ? M.log(p) : M.log1p(-p);
  // g(x) increases with x.
  const g = (x: number) => (lowerTail ? nctLogCdf(x, df, delta) - target : target - nctLogTail(x, df, delta, true));
  const centre = delta;
  let step = M.max(1, M.abs(delta)) * (1 + 1 / M.sqrt(df));
  let lo = centre - step;
  let hi = centre + step;
  while (g(lo) > 0) {
    hi = lo;
    step *= 2;
    lo = centre - step;
    if (step > 1e300) return -Infinity;
  }
  while (g(hi) < 0) {
    lo = hi;
    step *= 2;
    hi = centre + step;
    if (step > 1e300) return Infinity;
  }
  return brentRoot(g, lo, hi, 1e-14);
}

/** Finds x in [lo, hi] with f(x) = target for an increasing f. */
export function solveIncreasing(f: (x: number) => number, target: number, lo: number, hi: number, tol = 1e-10): number {
  return brentRoot((x) => f(x) - target, lo, hi, tol);
}

/**
 * A root of h in [a, b] (h(a) and h(b) of opposite signs, or the end nearer to one) to within
 * tol * max(1, |x|), by Brent's method: inverse quadratic or secant steps where they stay inside
 * the bracket and shrink it fast enough, bisection otherwise (and wherever h is infinite). Each
 * h here is an adaptive integral, so ~10 evaluations instead of bisection's ~50 matter.
 */
export function brentRoot(h: (x: number) => number, a: number, b: number, tol: number): number {
  let fa = h(a);
  let fb = h(b);
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (M.sign(fa) === M.sign(fb)) return M.abs(fa) < M.abs(fb) ? a : b;
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let i = 0; i < 300; i++) {
    if (M.sign(fb) === M.sign(fc)) {
      c = a;
      fc = fa;
      d = e = b - a;
    }
    if (M.abs(fc) < M.abs(fb)) {
      [a, b, c] = [b, c, b];
      [fa, fb, fc] = [fb, fc, fb];
    }
    const tol1 = 2 * N.EPSILON * M.abs(b) + 0.5 * tol * M.max(1, M.abs(b));
    const xm = 0.5 * (c - b);
    if (M.abs(xm) <= tol1 || fb === 0) return b;
    if (M.abs(e) >= tol1 && M.abs(fa) > M.abs(fb) && N.isFinite(fa) && N.isFinite(fb) && N.isFinite(fc)) {
      const s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * xm * s;
        q = 1 - s;
      } else {
        const qa = fa / fc;
        const r = fb / fc;
        p = s * (2 * xm * qa * (qa - r) - (b - a) * (r - 1));
        q = (qa - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      p = M.abs(p);
      if (2 * p < M.min(3 * xm * q - M.abs(tol1 * q), M.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = xm;
        e = d;
      }
    } else {
      d = xm;
      e = d;
    }
    a = b;
    fa = fb;
    b += M.abs(d) > tol1 ? d : xm > 0 ? tol1 : -tol1;
    fb = h(b);
  }
  return b;
}
