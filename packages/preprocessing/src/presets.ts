import { ConfigError } from '@vitkit/core';
import { specFromHfConfig, specFromTimmConfig } from './config.js';
import type { PreprocessSpec } from './spec.js';

/**
 * The evaluation pipelines of the three ecosystems for 224x224 ViTs:
 * - `timm`: shorter side to floor(224 / 0.9) = 248 (bicubic), center crop 224, mean = std = 0.5
 *   (timm's vit_*_augreg configs).
 * - `hf`: stretch to 224x224 (bilinear), mean = std = 0.5 (google/vit-base-patch16-224).
 * - `torchvision`: shorter side to 256 (bilinear), center crop 224, ImageNet mean/std
 *   (torchvision's ViT_B_16_Weights.IMAGENET1K_V1).
 */
export const PREPROCESS_PRESET_NAMES = ['timm', 'hf', 'torchvision'] as const;
export type PreprocessPresetName = (typeof PREPROCESS_PRESET_NAMES)[number];

export interface PresetOptions {
  /** Output side length (default 224); the resize scales with it the way each ecosystem does. */
  size?: number;
}

export function isPreprocessPresetName(name: string): name is PreprocessPresetName {
  return (PREPROCESS_PRESET_NAMES as readonly string[]).includes(name);
}

export function presetSpec(name: string, options: PresetOptions = {}): PreprocessSpec {
  const size = options.size ?? 224;
  switch (name) {
    case 'timm':
      return specFromTimmConfig({ input_size: [3, size, size], interpolation: 'bicubic', crop_pct: 0.9, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    case 'hf':
      return specFromHfConfig({ size: { height: size, width: size }, resample: 2, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] });
    case 'torchvision':
      return {
        resize: { kind: 'shortest-edge', size: Math.floor((size * 256) / 224), interpolation: 'bilinear' },
        crop: { height: size, width: size, convention: 'torchvision' },
        rescale: 1 / 255,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      };
    default:
      throw new ConfigError(`unknown preprocessing preset "${name}"`, `use one of: ${PREPROCESS_PRESET_NAMES.join(', ')}`);
  }
}
