import { ConfigError, type Rng } from '@vitkit/core';
import { cropWithFill, roundHalfEven } from '../geometry.js';
import type { Image8 } from '../image.js';
import { resize } from '../resize/resize.js';
import type { Interpolation } from '../resize/filters.js';

export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 tries at a box with
 * area fraction in `scale` and log-uniform aspect ratio in `ratio` that fits
 * the image, else a center crop clamped to the ratio range.
 */
export function randomResizedCropBox(width: number, height: number, rng: Rng, scale: [number, number] = [0.08, 1], ratio: [number, number] = [3 / 4, 4 / 3]): CropBox {
  if (!(scale[0] > 0 && scale[0] <= scale[1])) throw new ConfigError(`scale must satisfy 0 < min <= max, got [${scale.join(', ')}]`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new ConfigError(`ratio must satisfy 0 < min <= max, got [${ratio.join(', ')}]`);
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = roundHalfEven(w / ratio[0]);
  else if (inRatio > ratio[1]) w = roundHalfEven(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Cuts `box` out of an image and resizes it to width x height (Pillow semantics). */
export function resizedCrop(image: Image8, box: CropBox, width: number, height: number, interpolation: Interpolation): Image8 {
  const data = cropWithFill(image.data, image.width, image.height, image.channels, box.left, box.top, box.width, box.height);
  return resize({ data, width: box.width, height: box.height, channels: image.channels }, width, height, { interpolation });
}

/** Mirrors an image left-right. */
export function flipHorizontal(image: Image8): Image8 {
  const { width: w, height: h, channels: c, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * c;
      const d = (y * w + (w - 1 - x)) * c;
      for (let k = 0; k < c; k++) out[d + k] = data[s + k]!;
    }
  }
  return { ...image, data: out };
}
