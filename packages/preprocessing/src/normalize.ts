import type { PreprocessSpec } from './spec.js';

const f = Math.fround;

/**
 * Maps one level to the model's value with float32 rounding at each step, as
 * torch computes ToTensor (x / 255) then Normalize ((x - mean) / std).
 */
function normalizeValue(v: number, rescale: number | undefined, mean: number | undefined, std: number | undefined): number {
  let x = f(v);
  if (rescale !== undefined) x = Math.abs(rescale * 255 - 1) < 1e-12 ? f(x / 255) : f(x * f(rescale));
  if (mean !== undefined && std !== undefined) x = f(f(x - f(mean)) / f(std));
  return x;
}

/**
 * Rescales and normalizes HWC 3-channel levels into float32. For uint8 input
 * each channel's 256 possible results are tabulated once.
 */
export function normalizePixels(src: Uint8Array | Float32Array, spec: PreprocessSpec, out: Float32Array = new Float32Array(src.length), offset = 0): Float32Array {
  const { rescale, mean, std } = spec;
  if (src instanceof Uint8Array) {
    const lut = new Float32Array(3 * 256);
    for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) lut[c * 256 + v] = normalizeValue(v, rescale, mean?.[c], std?.[c]);
    for (let i = 0; i < src.length; i += 3) {
      out[offset + i] = lut[src[i]!]!;
      out[offset + i + 1] = lut[256 + src[i + 1]!]!;
      out[offset + i + 2] = lut[512 + src[i + 2]!]!;
    }
    return out;
  }
  for (let i = 0; i < src.length; i++) {
    const c = i % 3;
    out[offset + i] = normalizeValue(src[i]!, rescale, mean?.[c], std?.[c]);
  }
  return out;
}

/** Undoes normalization and rescaling: model values back to 0..255 levels (for checks and display). */
export function denormalizePixels(src: Float32Array, spec: PreprocessSpec): Float32Array {
  const out = new Float32Array(src.length);
  const scale = spec.rescale ?? 1;
  for (let i = 0; i < src.length; i++) {
    const c = i % 3;
    let x = src[i]!;
    if (spec.mean && spec.std) x = x * spec.std[c]! + spec.mean[c]!;
    out[i] = x / scale;
  }
  return out;
}
