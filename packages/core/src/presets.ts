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

// The families below follow the keyword arguments of timm's registered models
// (timm/models/vision_transformer.py, deit.py) and the image size / class count of their
// pretrained cfgs; DINOv2, CLIP and SigLIP towers come without classifier (numClasses 0).

const GIANT = { embedDim: 1536, depth: 40, numHeads: 24, mlpRatio: 2.66667 * 2, mlpLayer: 'swiglu' } as const;

/** DINOv2 (`vit_<size>_patch14[_reg4]_dinov2`): LayerScale 1e-5, 518 px; giant uses SwiGLU. */
function dinov2(size: 'small' | 'base' | 'large' | 'giant', registers: boolean): ViTConfigInput {
  const dims = size === 'giant' ? GIANT : SIZES[size];
  return {
    ...dims,
    patchSize: 14,
    imageSize: 518,
    numClasses: 0,
    layerScaleInit: 1e-5,
    ...(registers ? { numRegisterTokens: 4, noEmbedClass: true } : {}),
  };
}

/** CLIP image towers (`vit_<size>_patch<P>_clip[_quickgelu]_<res>`): pre-norm, no patch bias, LayerNorm eps 1e-5. */
function clip(size: 'base' | 'large' | 'huge', patchSize: number, imageSize: number, quickGelu = false): ViTConfigInput {
  return { ...SIZES[size], patchSize, imageSize, numClasses: 0, preNorm: true, layerNormEps: 1e-5, ...(quickGelu ? { activation: 'quick_gelu' } : {}) };
}

const SO400M = { embedDim: 1152, depth: 27, numHeads: 16, mlpRatio: 3.7362 } as const;

/** SigLIP image towers (`vit_<size>_patch<P>_siglip_<res>`): no class token, attention pooling (map). */
function siglip(size: 'base' | 'large' | 'so400m', patchSize: number, imageSize: number, geluTanh = false): ViTConfigInput {
  const dims = size === 'so400m' ? SO400M : SIZES[size];
  return { ...dims, patchSize, imageSize, numClasses: 0, classToken: false, pooling: 'map', ...(geluTanh ? { activation: 'gelu_tanh' } : {}) };
}

function deitDistilled(size: 'tiny' | 'small' | 'base', imageSize = 224): ViTConfigInput {
  return { ...vit(size, 16, imageSize), distilled: true };
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
  deit_tiny_distilled_patch16_224: deitDistilled('tiny'),
  deit_small_distilled_patch16_224: deitDistilled('small'),
  deit_base_distilled_patch16_224: deitDistilled('base'),
  deit_base_distilled_patch16_384: deitDistilled('base', 384),
  vit_small_patch14_dinov2: dinov2('small', false),
  vit_base_patch14_dinov2: dinov2('base', false),
  vit_large_patch14_dinov2: dinov2('large', false),
  vit_giant_patch14_dinov2: dinov2('giant', false),
  vit_small_patch14_reg4_dinov2: dinov2('small', true),
  vit_base_patch14_reg4_dinov2: dinov2('base', true),
  vit_large_patch14_reg4_dinov2: dinov2('large', true),
  vit_giant_patch14_reg4_dinov2: dinov2('giant', true),
  vit_base_patch32_clip_224: clip('base', 32, 224),
  vit_base_patch32_clip_256: clip('base', 32, 256),
  vit_base_patch32_clip_384: clip('base', 32, 384),
  vit_base_patch32_clip_448: clip('base', 32, 448),
  vit_base_patch16_clip_224: clip('base', 16, 224),
  vit_base_patch16_clip_384: clip('base', 16, 384),
  vit_large_patch14_clip_224: clip('large', 14, 224),
  vit_large_patch14_clip_336: clip('large', 14, 336),
  vit_huge_patch14_clip_224: clip('huge', 14, 224),
  vit_huge_patch14_clip_336: clip('huge', 14, 336),
  vit_huge_patch14_clip_378: clip('huge', 14, 378),
  vit_base_patch32_clip_quickgelu_224: clip('base', 32, 224, true),
  vit_base_patch16_clip_quickgelu_224: clip('base', 16, 224, true),
  vit_large_patch14_clip_quickgelu_224: clip('large', 14, 224, true),
  vit_large_patch14_clip_quickgelu_336: clip('large', 14, 336, true),
  vit_huge_patch14_clip_quickgelu_224: clip('huge', 14, 224, true),
  vit_huge_patch14_clip_quickgelu_378: clip('huge', 14, 378, true),
  vit_base_patch32_siglip_256: siglip('base', 32, 256, true),
  vit_base_patch16_siglip_224: siglip('base', 16, 224),
  vit_base_patch16_siglip_256: siglip('base', 16, 256),
  vit_base_patch16_siglip_384: siglip('base', 16, 384),
  vit_base_patch16_siglip_512: siglip('base', 16, 512),
  vit_large_patch16_siglip_256: siglip('large', 16, 256),
  vit_large_patch16_siglip_384: siglip('large', 16, 384),
  vit_large_patch16_siglip_512: siglip('large', 16, 512, true),
  vit_so400m_patch14_siglip_224: siglip('so400m', 14, 224),
  vit_so400m_patch14_siglip_378: siglip('so400m', 14, 378),
  // timm runs this one at 384 px, where the stride-14 patch conv ignores the last 6 pixel rows and
  // columns (a 27x27 grid); vitkit needs whole patches, so the preset says 378 (same grid, same weights).
  vit_so400m_patch14_siglip_384: siglip('so400m', 14, 378),
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
