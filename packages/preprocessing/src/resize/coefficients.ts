import { FILTERS, type Interpolation } from './filters.js';

/** Fractional bits of Pillow's fixed-point weights: 32 - 8 (pixel) - 2 (headroom). */
export const PRECISION_BITS = 22;

/**
 * Resampling weights for one axis: output pixel `o` reads `count[o]` input
 * pixels starting at `start[o]`, weighted by `weights[o * taps + k]`.
 */
export interface AxisCoefficients {
  inSize: number;
  outSize: number;
  /** Row length of `weights` / `fixed` (Pillow's ksize). */
  taps: number;
  start: Int32Array;
  count: Int32Array;
  /** Normalized double weights (sum to 1 per output pixel). */
  weights: Float64Array;
  /** The same weights as Pillow's 8-bit path stores them: round(w * 2^22), half away from zero. */
  fixed: Int32Array;
}

/**
 * Computes the weights Pillow's `precompute_coeffs` computes for resizing the
 * span [in0, in1) of an axis of length `inSize` to `outSize` pixels: kernel
 * centered at in0 + (o + 0.5) * scale, support widened by max(1, scale), taps
 * clipped to the image and renormalized. `nearest` is expressed as one tap
 * with weight 1 at floor(in0 + (o + 0.5) * scale), as Pillow's affine nearest
 * transform samples.
 */
export function axisCoefficients(
  inSize: number,
  outSize: number,
  interpolation: Interpolation,
  in0 = 0,
  in1 = inSize,
): AxisCoefficients {
  const scale = (in1 - in0) / outSize;
  if (interpolation === 'nearest') {
    const start = new Int32Array(outSize);
    const count = new Int32Array(outSize).fill(1);
    for (let o = 0; o < outSize; o++) {
      const src = Math.floor(in0 + (o + 0.5) * scale);
      start[o] = Math.min(inSize - 1, Math.max(0, src));
    }
    const weights = new Float64Array(outSize).fill(1);
    const fixed = new Int32Array(outSize).fill(1 << PRECISION_BITS);
    return { inSize, outSize, taps: 1, start, count, weights, fixed };
  }
  const filter = FILTERS[interpolation];
  const filterScale = Math.max(1, scale);
  const support = filter.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  const fixed = new Int32Array(outSize * taps);
  const inv = 1 / filterScale;
  for (let o = 0; o < outSize; o++) {
    const center = in0 + (o + 0.5) * scale;
    // C casts truncate toward zero; the clamps then make negative values 0.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const n = Math.max(0, hi - lo);
    let sum = 0;
    const row = o * taps;
    for (let k = 0; k < n; k++) {
      const w = filter.weight((k + lo - center + 0.5) * inv);
      weights[row + k] = w;
      sum += w;
    }
    if (sum !== 0) for (let k = 0; k < n; k++) weights[row + k] = weights[row + k]! / sum;
    for (let k = 0; k < n; k++) {
      const w = weights[row + k]! * (1 << PRECISION_BITS);
      fixed[row + k] = w < 0 ? Math.trunc(-0.5 + w) : Math.trunc(0.5 + w);
    }
    start[o] = lo;
    count[o] = n;
  }
  return { inSize, outSize, taps, start, count, weights, fixed };
}

/** First and one-past-last input index any output pixel reads. */
export function usedRange(c: AxisCoefficients): [number, number] {
  let lo = c.inSize;
  let hi = 0;
  for (let o = 0; o < c.outSize; o++) {
    if (c.count[o]! === 0) continue;
    lo = Math.min(lo, c.start[o]!);
    hi = Math.max(hi, c.start[o]! + c.count[o]!);
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}
