import { ConfigError, type Rng } from '@vitkit/core';
import { assertImage, toRgb, type Image8, type ModelInput } from '../image.js';
import { normalizePixels } from '../normalize.js';
import { isInterpolation, type Interpolation } from '../resize/filters.js';
import type { PreprocessSpec } from '../spec.js';
import { autoAugment, type AutoAugmentPolicy } from './auto_augment.js';
import { flipHorizontal, randomResizedCropBox, resizedCrop } from './crop.js';

/** Training-time augmentation, in timm/torchvision order: random resized crop, flip, auto-augment. */
export interface AugmentOptions {
  /** Output size: side length or [height, width]. */
  size: number | [number, number];
  /** Area fraction range of the random crop (default [0.08, 1]). */
  scale?: [number, number];
  /** Aspect ratio range of the random crop (default [3/4, 4/3]). */
  ratio?: [number, number];
  /** Resize filter for the crop (default bilinear, as torchvision). */
  interpolation?: Interpolation;
  /** Probability of a horizontal flip (default 0.5). */
  hflip?: number;
  /** `trivial` (TrivialAugmentWide), `randaugment` (2 ops, magnitude 9) or `none` (default). */
  autoAugment?: AutoAugmentPolicy;
  /** Fill for pixels that geometric ops uncover (default black). */
  fill?: [number, number, number];
}

function outSize(size: AugmentOptions['size']): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) throw new ConfigError(`augment size must be positive integers, got ${JSON.stringify(size)}`);
  return [h, w];
}

/**
 * Augments one image for training and returns 8-bit RGB of the requested
 * size. Every random choice comes from `rng`, so the same seed gives the
 * same pixels on every run and platform.
 */
export function augment(image: Image8, rng: Rng, options: AugmentOptions): Image8 {
  assertImage(image);
  const [h, w] = outSize(options.size);
  const interpolation = options.interpolation ?? 'bilinear';
  if (!isInterpolation(interpolation)) throw new ConfigError(`unknown interpolation ${JSON.stringify(interpolation)}`);
  const hflip = options.hflip ?? 0.5;
  if (!(hflip >= 0 && hflip <= 1)) throw new ConfigError(`hflip must be a probability in [0, 1], got ${hflip}`);
  const rgb = toRgb(image);
  const box = randomResizedCropBox(rgb.width, rgb.height, rng, options.scale, options.ratio);
  let out = resizedCrop(rgb, box, w, h, interpolation);
  if (rng.next() < hflip) out = flipHorizontal(out);
  return autoAugment(out, rng, options.autoAugment ?? 'none', options.fill ?? [0, 0, 0]);
}

/** `augment`, then rescale and normalize (e.g. the same mean/std as the eval preset) to an HWC float32 model input. */
export function augmentForModel(image: Image8, rng: Rng, options: AugmentOptions & Pick<PreprocessSpec, 'rescale' | 'mean' | 'std'>): ModelInput {
  const out = augment(image, rng, options);
  return { data: normalizePixels(out.data, options), shape: [out.height, out.width, 3] };
}
