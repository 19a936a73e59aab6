// How ImageFolder files become dataset images when a model's own
// preprocessing (its preprocessor_config.json or timm pretrained_cfg, read
// by @vitkit/preprocessing) decides: its geometry (resize, crop) is applied
// to 8-bit pixels at load time; its rescale and mean/std become the
// dataset's normalization, applied when batches are made. The task layer
// (TaskModel.preprocess) runs the same steps, so a model fine-tuned on a
// folder sees at training what `vit predict` feeds it.
import { NORMALIZATION, type PreprocessSpec } from '@vitkit/preprocessing';
import { DataError } from '../errors.js';
import type { Normalization } from './dataset.js';

/** ITU-R BT.601 luma weights: how the task layer turns RGB into one channel for gray models. */
const LUMA = [0.299, 0.587, 0.114] as const;

/** The [height, width] every image leaves the geometry with; undefined when it depends on the image (a resize without a crop). */
function fixedOutputSize(spec: PreprocessSpec): [number, number] | undefined {
  if (spec.crop) return [spec.crop.height, spec.crop.width];
  if (spec.resize?.kind === 'exact') return [spec.resize.height, spec.resize.width];
  return undefined;
}

/** The size a model's preprocessing gives every image; refused when it gives images of varying sizes. */
export function preprocessedSize(spec: PreprocessSpec): [number, number] {
  const size = fixedOutputSize(spec);
  if (!size) {
    const how = spec.resize ? `a ${spec.resize.kind} resize without a crop` : 'no resize and no crop';
    throw new DataError(`the model's preprocessing (${how}) gives images of varying sizes; training needs one size`, 'give its preprocessor_config.json a crop_size (or size {height, width})');
  }
  return size;
}

/**
 * The dataset normalization (on levels / 255) that equals the spec's rescale
 * then (x - mean) / std. For one channel: the luma of the normalized RGB
 * channels, as the task layer computes it, which is exact for gray images.
 */
export function datasetNormalization(spec: PreprocessSpec, channels: number): Normalization {
  const toUnit = 255 * (spec.rescale ?? 1);
  const mean = (spec.mean ?? [0, 0, 0]).map((m) => m / toUnit);
  const std = (spec.std ?? [1, 1, 1]).map((s) => s / toUnit);
  if (channels === 3) return { mean, std };
  // sum_c w_c (x - m_c) / s_c = (x - m') / s' with 1/s' = sum_c w_c / s_c and m' = s' sum_c w_c m_c / s_c.
  const inv = LUMA.reduce((a, w, c) => a + w / std[c]!, 0);
  const m = LUMA.reduce((a, w, c) => a + (w * mean[c]!) / std[c]!, 0) / inv;
  return { mean: [m], std: [1 / inv] };
}

/** RGB pixels to one channel of 8-bit luma (gray images keep their levels exactly). */
export function lumaPixels(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let p = 0; p < out.length; p++) out[p] = Math.round(LUMA[0] * rgb[3 * p]! + LUMA[1] * rgb[3 * p + 1]! + LUMA[2] * rgb[3 * p + 2]!);
  return out;
}

/**
 * The preprocessing an ImageFolder gets when no model states one, as a timm pretrained_cfg (read
 * with specFromConfig; a run directory's preprocessor_config.json repeats it): the shorter side
 * resized (bilinear) to the target's, center-cropped to it; ImageNet mean/std.
 */
export function defaultFolderPreprocessing(size: [number, number]): Record<string, unknown> {
  const { mean, std } = NORMALIZATION.imagenet;
  return { input_size: [3, size[0], size[1]], crop_pct: 1, crop_mode: 'center', interpolation: 'bilinear', mean: [...mean], std: [...std] };
}
