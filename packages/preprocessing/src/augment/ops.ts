import type { Image8 } from '../image.js';

/**
 * The image operations of AutoAugment-style policies, on 8-bit RGB, with the
 * meanings PIL's ImageOps / ImageEnhance give them. Geometric ops sample the
 * nearest pixel and fill uncovered pixels with `fill`.
 */

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Gray level as PIL's convert('L') computes it: (299 R + 587 G + 114 B) / 1000 in 16-bit fixed point. */
const luma = (r: number, g: number, b: number): number => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

/**
 * Samples the input at inverse-mapped positions: output pixel (x, y) reads
 * input (a*x + b*y + c, d*x + e*y + f), coordinates taken at pixel centers.
 */
export function affine(image: Image8, m: [number, number, number, number, number, number], fill: readonly number[] = [0, 0, 0]): Image8 {
  const { width: w, height: h, channels: ch, data } = image;
  const out = new Uint8Array(data.length);
  const [a, b, c, d, e, f] = m;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = Math.floor(a * (x + 0.5) + b * (y + 0.5) + c);
      const sy = Math.floor(d * (x + 0.5) + e * (y + 0.5) + f);
      const o = (y * w + x) * ch;
      if (sx >= 0 && sx < w && sy >= 0 && sy < h) {
        const s = (sy * w + sx) * ch;
        for (let k = 0; k < ch; k++) out[o + k] = data[s + k]!;
      } else {
        for (let k = 0; k < ch; k++) out[o + k] = fill[k] ?? 0;
      }
    }
  }
  return { ...image, data: out };
}

export const shearX = (img: Image8, m: number, fill?: readonly number[]): Image8 => affine(img, [1, m, 0, 0, 1, 0], fill);
export const shearY = (img: Image8, m: number, fill?: readonly number[]): Image8 => affine(img, [1, 0, 0, m, 1, 0], fill);
export const translateX = (img: Image8, px: number, fill?: readonly number[]): Image8 => affine(img, [1, 0, -Math.trunc(px), 0, 1, 0], fill);
export const translateY = (img: Image8, px: number, fill?: readonly number[]): Image8 => affine(img, [1, 0, 0, 0, 1, -Math.trunc(px)], fill);

/** Rotates counter-clockwise by `degrees` about the image center (as torchvision's F.rotate). */
export function rotate(img: Image8, degrees: number, fill?: readonly number[]): Image8 {
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cx = img.width / 2;
  const cy = img.height / 2;
  // Inverse map: rotate output coordinates clockwise back into the input.
  return affine(img, [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy], fill);
}

/** PIL Image.blend(degenerate, img, factor), clipped and truncated like PIL's float path. */
function blend(img: Image8, degenerate: Uint8Array, factor: number): Image8 {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const d = degenerate[i]!;
    out[i] = clamp8(Math.trunc(d + factor * (img.data[i]! - d)));
  }
  return { ...img, data: out };
}

export const brightness = (img: Image8, factor: number): Image8 => blend(img, new Uint8Array(img.data.length), factor);

export function color(img: Image8, factor: number): Image8 {
  const gray = new Uint8Array(img.data.length);
  for (let i = 0; i < gray.length; i += 3) gray[i] = gray[i + 1] = gray[i + 2] = luma(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
  return blend(img, gray, factor);
}

export function contrast(img: Image8, factor: number): Image8 {
  let sum = 0;
  for (let i = 0; i < img.data.length; i += 3) sum += luma(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
  const mean = Math.trunc(sum / (img.data.length / 3) + 0.5);
  return blend(img, new Uint8Array(img.data.length).fill(mean), factor);
}

/** Blends with PIL's SMOOTH filter (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, sum 13); border pixels stay as they are. */
export function sharpness(img: Image8, factor: number): Image8 {
  const { width: w, height: h, data } = img;
  const smooth = data.slice();
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let k = 0; k < 3; k++) {
        let s = 4 * data[(y * w + x) * 3 + k]!;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += data[((y + dy) * w + x + dx) * 3 + k]!;
        smooth[(y * w + x) * 3 + k] = clamp8(Math.round(s / 13));
      }
    }
  }
  return blend(img, smooth, factor);
}

export function posterize(img: Image8, bits: number): Image8 {
  const mask = ~((1 << (8 - Math.max(0, Math.min(8, bits)))) - 1) & 0xff;
  return { ...img, data: img.data.map((v) => v & mask) };
}

export function solarize(img: Image8, threshold: number): Image8 {
  return { ...img, data: img.data.map((v) => (v < threshold ? v : 255 - v)) };
}

/** Per channel, stretches [min, max] to [0, 255] (PIL ImageOps.autocontrast with cutoff 0). */
export function autocontrast(img: Image8): Image8 {
  const out = img.data.slice();
  for (let k = 0; k < 3; k++) {
    let lo = 255;
    let hi = 0;
    for (let i = k; i < out.length; i += 3) {
      lo = Math.min(lo, img.data[i]!);
      hi = Math.max(hi, img.data[i]!);
    }
    if (hi <= lo) continue;
    const scale = 255 / (hi - lo);
    for (let i = k; i < out.length; i += 3) out[i] = clamp8(Math.trunc((img.data[i]! - lo) * scale));
  }
  return { ...img, data: out };
}

/** Per channel histogram equalization with PIL ImageOps.equalize's lookup table. */
export function equalize(img: Image8): Image8 {
  const out = img.data.slice();
  for (let k = 0; k < 3; k++) {
    const hist = new Array<number>(256).fill(0);
    for (let i = k; i < out.length; i += 3) hist[img.data[i]!]!++;
    const nonzero = hist.filter((v) => v > 0);
    if (nonzero.length <= 1) continue;
    const step = Math.floor((nonzero.reduce((a, b) => a + b, 0) - nonzero[nonzero.length - 1]!) / 255);
    if (step === 0) continue;
    const lut = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let v = 0; v < 256; v++) {
      lut[v] = clamp8(Math.floor(n / step));
      n += hist[v]!;
    }
    for (let i = k; i < out.length; i += 3) out[i] = lut[img.data[i]!]!;
  }
  return { ...img, data: out };
}
