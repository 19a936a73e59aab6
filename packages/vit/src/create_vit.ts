import { isPresetName, presetConfig, presetNames, withOverrides, ConfigError, type ViTConfig, type ViTConfigInput } from '@vitkit/core';
import { VisionTransformer, type VisionTransformerOptions } from './vision_transformer.js';

/**
 * Builds a randomly initialized ViT from a timm preset name
 * (`'vit_base_patch16_224'`) or a config, with `overrides` applied on top
 * (e.g. `{ numClasses: 10 }`). Derived fields the config did not set explicitly
 * (`fcNorm`, `patchEmbedBias`) follow the overrides: `createViT(model.config, { pooling: 'mean' })`
 * gets timm's fc_norm.
 */
export function createViT(
  presetOrConfig: string | ViTConfigInput | ViTConfig,
  overrides: ViTConfigInput = {},
  options: VisionTransformerOptions = {},
): VisionTransformer {
  if (typeof presetOrConfig === 'string') {
    if (!isPresetName(presetOrConfig)) {
      throw new ConfigError(`unknown preset "${presetOrConfig}"`, `use one of: ${presetNames().join(', ')}`);
    }
    return new VisionTransformer(presetConfig(presetOrConfig, overrides), options);
  }
  return new VisionTransformer(withOverrides(presetOrConfig, overrides), options);
}
