import { ConfigError } from '@vitkit/core';
import { assertImage, type Image, type Image8 } from '../image.js';
import { axisCoefficients, PRECISION_BITS, usedRange, type AxisCoefficients } from './coefficients.js';
import type { Interpolation } from './filters.js';

/**
 * `pillow`: Pillow's 8-bit path bit for bit (fixed-point weights, uint8
 * rounding and clamping between the horizontal and the vertical pass).
 * `float`: double weights, no intermediate rounding, float output (what an
 * antialiased float-tensor resize computes; useful for float images).
 */
export type ResizePrecision = 'pillow' | 'float';

export interface ResizeOptions {
  interpolation?: Interpolation;
  precision?: ResizePrecision;
}

const HALF = 1 << (PRECISION_BITS - 1);

export function checkTargetSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ConfigError(`resize target must be positive integers, got ${width}x${height}`);
  }
}

/** One fixed-point pass along rows (horizontal) for rows [y0, y1), as Pillow's ImagingResampleHorizontal_8bpc. */
function horizontal8(src: Uint8Array, w: number, c: number, y0: number, y1: number, k: AxisCoefficients): Uint8Array {
  const ow = k.outSize;
  const out = new Uint8Array(ow * (y1 - y0) * c);
  const { start, count, fixed, taps } = k;
  for (let y = y0; y < y1; y++) {
    const rowIn = y * w * c;
    const rowOut = (y - y0) * ow * c;
    for (let o = 0; o < ow; o++) {
      const s0 = rowIn + start[o]! * c;
      const n = count[o]!;
      const kb = o * taps;
      for (let ch = 0; ch < c; ch++) {
        let ss = HALF;
        for (let t = 0; t < n; t++) ss += src[s0 + t * c + ch]! * fixed[kb + t]!;
        const v = ss >> PRECISION_BITS;
        out[rowOut + o * c + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** One fixed-point pass along columns (vertical); `src` rows start at input row `y0`. */
function vertical8(src: Uint8Array, w: number, c: number, y0: number, k: AxisCoefficients): Uint8Array {
  const oh = k.outSize;
  const stride = w * c;
  const out = new Uint8Array(oh * stride);
  const { start, count, fixed, taps } = k;
  const acc = new Int32Array(stride);
  for (let o = 0; o < oh; o++) {
    acc.fill(HALF);
    const n = count[o]!;
    const kb = o * taps;
    for (let t = 0; t < n; t++) {
      const wgt = fixed[kb + t]!;
      const row = (start[o]! - y0 + t) * stride;
      for (let i = 0; i < stride; i++) acc[i] = acc[i]! + src[row + i]! * wgt;
    }
    const base = o * stride;
    for (let i = 0; i < stride; i++) {
      const v = acc[i]! >> PRECISION_BITS;
      out[base + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

function horizontalF(src: ArrayLike<number>, w: number, c: number, h: number, k: AxisCoefficients): Float32Array {
  const ow = k.outSize;
  const out = new Float32Array(ow * h * c);
  for (let y = 0; y < h; y++) {
    for (let o = 0; o < ow; o++) {
      const s0 = (y * w + k.start[o]!) * c;
      for (let ch = 0; ch < c; ch++) {
        let ss = 0;
        for (let t = 0; t < k.count[o]!; t++) ss += src[s0 + t * c + ch]! * k.weights[o * k.taps + t]!;
        out[(y * ow + o) * c + ch] = ss;
      }
    }
  }
  return out;
}

function verticalF(src: ArrayLike<number>, w: number, c: number, k: AxisCoefficients): Float32Array {
  const stride = w * c;
  const out = new Float32Array(k.outSize * stride);
  const acc = new Float64Array(stride);
  for (let o = 0; o < k.outSize; o++) {
    acc.fill(0);
    for (let t = 0; t < k.count[o]!; t++) {
      const wgt = k.weights[o * k.taps + t]!;
      const row = (k.start[o]! + t) * stride;
      for (let i = 0; i < stride; i++) acc[i] = acc[i]! + src[row + i]! * wgt;
    }
    out.set(acc, o * stride);
  }
  return out;
}

/**
 * Resizes an image to width x height with Pillow's `Image.resize` semantics
 * (antialiased, horizontal pass first). With the default `pillow` precision a
 * uint8 image comes out identical to Pillow 9/10's result.
 */
export function resize(image: Image8, width: number, height: number, options?: ResizeOptions & { precision?: 'pillow' }): Image8;
export function resize(image: Image, width: number, height: number, options?: ResizeOptions): Image;
export function resize(image: Image, width: number, height: number, options: ResizeOptions = {}): Image {
  assertImage(image);
  checkTargetSize(width, height);
  const interpolation = options.interpolation ?? 'bilinear';
  const precision = options.precision ?? (image.data instanceof Uint8Array ? 'pillow' : 'float');
  const { width: w, height: h, channels: c } = image;
  if (precision === 'pillow' && !(image.data instanceof Uint8Array)) {
    throw new ConfigError('pillow precision needs a uint8 image', 'use precision "float" for float images');
  }
  if (w === width && h === height) return { ...image, data: image.data.slice() };
  const kh = axisCoefficients(w, width, interpolation);
  const kv = axisCoefficients(h, height, interpolation);
  if (precision === 'pillow') {
    const src = image.data as Uint8Array;
    let data: Uint8Array = src;
    let y0 = 0;
    let rowsW = w;
    if (width !== w) {
      // Like Pillow, only the rows the vertical pass reads are resampled.
      const [r0, r1] = height !== h ? usedRange(kv) : [0, h];
      data = horizontal8(src, w, c, r0, r1, kh);
      y0 = r0;
      rowsW = width;
    }
    if (height !== h) data = vertical8(data, rowsW, c, y0, kv);
    return { data, width, height, channels: c };
  }
  let data: ArrayLike<number> = image.data;
  if (width !== w) data = horizontalF(data, w, c, h, kh);
  if (height !== h) data = verticalF(data, width, c, kv);
  return { data: data instanceof Float32Array ? data : Float32Array.from(data), width, height, channels: c };
}
