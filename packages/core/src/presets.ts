import { ConfigError } from './errors.js';
import { resolveConfig, type ViTConfig, type ViTConfigInput } from './config.js';

/** Architecture sizes, as named in timm (`vit_<size>_patch<P>_<res>`) and DeiT. */
const SIZES = {
  tiny: { embedDim: 192, depth: 12, numHeads: 3, mlpDim: 768 },
  small: { embedDim: 384, depth: 12, numHeads: 6, mlpDim: 1536 },
  base: { embedDim: 768, depth: 12, numHeads: 12, mlpDim: 3072 },
  large: { embedDim: 1024, depth: 24, numHeads: 16, mlpDim: 4096 },
  huge: { embedDim: 1280, depth: 32, numHeads: 16, mlpDim: 5120 },
} as const;

function vit(size: keyof typeof SIZES, patchSize: number, imageSize = 224): ViTConfigInput {
  return { ...SIZES[size], patchSize, imageSize, numClasses: 1000 };
}

/** Named architectures, keyed by their timm names. */
export const PRESETS: Readonly<Record<string, ViTConfigInput>> = {
  vit_tiny_patch16_224: vit('tiny', 16),
  vit_tiny_patch16_384: vit('tiny', 16, 384),
  vit_small_patch16_224: vit('small', 16),
  vit_small_patch16_384: vit('small', 16, 384),
  vit_small_patch32_224: vit('small', 32),
  vit_base_patch8_224: vit('base', 8),
  vit_base_patch16_224: vit('base', 16),
  vit_base_patch16_384: vit('base', 16, 384),
  vit_base_patch32_224: vit('base', 32),
  vit_base_patch32_384: vit('base', 32, 384),
  vit_large_patch14_224: vit('large', 14),
  vit_large_patch16_224: vit('large', 16),
  vit_large_patch16_384: vit('large', 16, 384),
  vit_large_patch32_384: vit('large', 32, 384),
  vit_huge_patch14_224: vit('huge', 14),
  deit_tiny_patch16_224: vit('tiny', 16),
  deit_small_patch16_224: vit('small', 16),
  deit_base_patch16_224: vit('base', 16),
  deit_base_patch16_384: vit('base', 16, 384),
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function isPresetName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}

/** A preset's config, with `overrides` applied (e.g. `{ numClasses: 10 }`). */
export function presetConfig(name: string, overrides: ViTConfigInput = {}): ViTConfig {
  const preset = PRESETS[name];
  if (!preset) {
    throw new ConfigError(`unknown preset "${name}"`, `use one of: ${presetNames().join(', ')}`);
  }
  return resolveConfig({ ...preset, ...overrides });
}
