import type { Rng } from '@vitkit/core';
import { augment, type Image8 } from '@vitkit/preprocessing';

/**
 * A random transform of one 8-bit HWC image, drawing every random choice
 * from `rng`. It must return an image of the same width, height and channel
 * count (datasets are batched at a fixed size).
 */
export type Augmentation = (image: Image8, rng: Rng) => Image8;

/** The smallest area fraction defaultAugmentation's random resized crop keeps (mild, for small images). */
export const DEFAULT_CROP_SCALE = 0.85;

export interface DefaultAugmentationOptions {
  /** Area fraction range of the random resized crop (default [DEFAULT_CROP_SCALE, 1]). */
  scale?: [number, number];
  /** Aspect-ratio range of the crop (default [3/4, 4/3]). */
  ratio?: [number, number];
  /** Probability of a horizontal flip (default 0.5). */
  hflip?: number;
  /** RandAugment / TrivialAugment on top (default none). */
  autoAugment?: 'none' | 'trivial' | 'randaugment';
}

/** Keeps one channel of an RGB image whose three channels are equal (gray made RGB by the augmenter). */
function toGray(img: Image8): Image8 {
  const n = img.width * img.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = img.data[i * img.channels]!;
  return { data, width: img.width, height: img.height, channels: 1 };
}

/**
 * The augmentation `vit train` uses unless --no-augment: @vitkit/preprocessing's
 * `augment` (random resized crop back to the same size, horizontal flip,
 * optional auto-augment) with a crop scale suited to small images.
 * Grayscale images stay grayscale.
 */
export function defaultAugmentation(options: DefaultAugmentationOptions = {}): Augmentation {
  const scale = options.scale ?? [DEFAULT_CROP_SCALE, 1];
  const ratio = options.ratio ?? [0.9, 1.1];
  return (image, rng) => {
    const out = augment(image, rng, {
      size: [image.height, image.width],
      scale,
      ratio,
      hflip: options.hflip ?? 0.5,
      autoAugment: options.autoAugment ?? 'none',
    });
    return image.channels === 1 ? toGray(out) : out;
  };
}
