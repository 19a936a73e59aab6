import { describe, expect, it } from 'vitest';
import { ConfigError, MAX_DEPTH, MAX_EMBED_DIM, MAX_IMAGE_SIDE, MAX_TENSOR_ELEMENTS, MAX_TOKENS, numPrefixTokens, numTokens, patchGrid, presetConfig, presetNames, resolveConfig, withOverrides, type ViTConfigInput } from '../src/index.js';

describe('resolveConfig', () => {
  it('fills defaults and normalizes imageSize', () => {
    const c = resolveConfig({ imageSize: 32, patchSize: 8, embedDim: 32, depth: 2, numHeads: 4, numClasses: 10 });
    expect(c.imageSize).toEqual([32, 32]);
    expect(c.mlpDim).toBe(128); // 4x embedDim unless given
    expect(c.layerNormEps).toBe(1e-6);
    expect(patchGrid(c)).toEqual([4, 4]);
    expect(numTokens(c)).toBe(17);
  });

  it('rejects an image size that is not a multiple of the patch size', () => {
    expect(() => resolveConfig({ imageSize: 30, patchSize: 8 })).toThrow(/not a multiple of patch size 8/);
  });

  it('rejects heads that do not divide the width, with a ConfigError', () => {
    expect(() => resolveConfig({ embedDim: 30, numHeads: 4 })).toThrow(ConfigError);
  });

  it('rejects token pooling without a class token', () => {
    expect(() => resolveConfig({ classToken: false, pooling: 'token' })).toThrow(/pooling "mean"/);
  });

  it('counts register tokens as prefix tokens', () => {
    const c = resolveConfig({ imageSize: 32, patchSize: 8, numRegisterTokens: 4 });
    expect(numTokens(c)).toBe(1 + 4 + 16);
  });
});

describe('presets', () => {
  it('has the timm sizes with their published widths', () => {
    expect(presetConfig('vit_tiny_patch16_224')).toMatchObject({ embedDim: 192, depth: 12, numHeads: 3, mlpDim: 768 });
    expect(presetConfig('vit_small_patch16_224')).toMatchObject({ embedDim: 384, numHeads: 6 });
    expect(presetConfig('vit_base_patch16_224')).toMatchObject({ embedDim: 768, numHeads: 12, patchSize: 16 });
    expect(presetConfig('vit_large_patch16_224')).toMatchObject({ embedDim: 1024, depth: 24, numHeads: 16 });
    expect(presetConfig('vit_huge_patch14_224')).toMatchObject({ embedDim: 1280, depth: 32, patchSize: 14 });
    expect(presetConfig('deit_tiny_patch16_224').embedDim).toBe(192);
    expect(presetNames()).toContain('deit_base_patch16_224');
  });

  it('applies overrides and names the presets on a typo', () => {
    expect(presetConfig('vit_base_patch16_224', { numClasses: 10 }).numClasses).toBe(10);
    expect(() => presetConfig('vit_bsae_patch16_224')).toThrow(/unknown preset "vit_bsae_patch16_224".*vit_base_patch16_224/);
  });
});

describe('ViT family fields', () => {
  it('defaults leave the plain ViT as it was', () => {
    const c = resolveConfig({});
    expect(c).toMatchObject({
      layerScaleInit: null,
      activation: 'gelu',
      qkNorm: false,
      preNorm: false,
      patchEmbedBias: true,
      distilled: false,
      dynamicImageSize: false,
      pooling: 'token',
      fcNorm: false,
      finalNorm: true,
      mlpLayer: 'mlp',
    });
    expect(resolveConfig({ classToken: false, pooling: 'mean' }).fcNorm).toBe(true);
    expect(resolveConfig({ pooling: 'mean', finalNorm: false }).fcNorm).toBe(false);
  });

  it('withOverrides re-derives fcNorm and patchEmbedBias unless they were given', () => {
    const base = resolveConfig({ imageSize: 32, patchSize: 8 });
    expect(base.fcNorm).toBe(false);
    expect(withOverrides(base, { pooling: 'mean' }).fcNorm).toBe(true);
    expect(withOverrides(base, { preNorm: true }).patchEmbedBias).toBe(false);
    // An explicit value stays, whether in the base or in the overrides.
    const explicit = resolveConfig({ imageSize: 32, patchSize: 8, fcNorm: false, patchEmbedBias: true });
    expect(withOverrides(explicit, { pooling: 'mean' }).fcNorm).toBe(false);
    expect(withOverrides(explicit, { preNorm: true }).patchEmbedBias).toBe(true);
    expect(withOverrides(base, { pooling: 'mean', fcNorm: false }).fcNorm).toBe(false);
    // The record survives resolving again (VisionTransformer does) and chains of overrides.
    expect(withOverrides(resolveConfig(base), { pooling: 'mean' }).fcNorm).toBe(true);
    expect(withOverrides(withOverrides(base, { numClasses: 3 }), { pooling: 'mean' }).fcNorm).toBe(true);
    expect(withOverrides(withOverrides(base, { pooling: 'mean' }), { pooling: 'token' }).fcNorm).toBe(false);
    // A spread copy has lost the record: every field in it counts as given.
    expect(withOverrides({ ...base }, { pooling: 'mean' }).fcNorm).toBe(false);
    // Plain inputs: what they say is explicit.
    expect(withOverrides({ pooling: 'token', fcNorm: false }, { pooling: 'mean' }).fcNorm).toBe(false);
    expect(withOverrides({ pooling: 'token' }, { pooling: 'mean' }).fcNorm).toBe(true);
    // The record is invisible: configs still compare and serialize as before.
    expect(withOverrides(base, {})).toEqual(base);
    expect(JSON.parse(JSON.stringify(base))).toEqual(base);
  });

  it('resolves timm defaults: no patch bias under preNorm, mlpRatio', () => {
    expect(resolveConfig({ preNorm: true }).patchEmbedBias).toBe(false);
    expect(resolveConfig({ preNorm: true, patchEmbedBias: true }).patchEmbedBias).toBe(true);
    expect(resolveConfig({ embedDim: 1152, numHeads: 16, mlpRatio: 3.7362 }).mlpDim).toBe(4304);
    expect(resolveConfig({ embedDim: 32, numHeads: 2, mlpRatio: 2, mlpDim: 7 }).mlpDim).toBe(7);
    expect('mlpRatio' in resolveConfig({ mlpRatio: 2 })).toBe(false);
  });

  it('counts prefix tokens in timm order: class, distillation, registers', () => {
    const d = resolveConfig({ imageSize: 32, patchSize: 8, distilled: true });
    expect(numPrefixTokens(d)).toBe(2);
    expect(numTokens(d)).toBe(18);
    expect(numPrefixTokens(resolveConfig({ classToken: false, pooling: 'map', numRegisterTokens: 4 }))).toBe(4);
  });

  it('rejects inconsistent combinations with one-line ConfigErrors', () => {
    expect(() => resolveConfig({ distilled: true, classToken: false, pooling: 'mean' })).toThrow(/distilled needs a class token/);
    expect(() => resolveConfig({ distilled: true, pooling: 'mean' })).toThrow(/pooling "token"/);
    expect(() => resolveConfig({ distilled: true, numRegisterTokens: 4 })).toThrow(/register tokens/);
    expect(() => resolveConfig({ mlpLayer: 'swiglu' })).toThrow(/no SwiGLU MLP \(DINOv2 giant\)/);
    expect(() => resolveConfig({ layerScaleInit: 0 })).toThrow(/layerScaleInit/);
    expect(() => resolveConfig({ pooling: 'max' as never })).toThrow(/token, mean, map, none/);
    expect(() => resolveConfig({ activation: 'relu' as never })).toThrow(ConfigError);
    expect(() => resolveConfig({ fcNorm: true, finalNorm: false })).toThrow(/fcNorm/);
  });
});

describe('family presets (timm defaults)', () => {
  it('DINOv2 with and without registers', () => {
    expect(presetConfig('vit_small_patch14_dinov2')).toMatchObject({ embedDim: 384, patchSize: 14, imageSize: [518, 518], layerScaleInit: 1e-5, numClasses: 0, numRegisterTokens: 0, noEmbedClass: false });
    expect(presetConfig('vit_large_patch14_reg4_dinov2')).toMatchObject({ embedDim: 1024, depth: 24, numRegisterTokens: 4, noEmbedClass: true });
    expect(() => presetConfig('vit_giant_patch14_reg4_dinov2')).toThrow(/SwiGLU/);
  });

  it('CLIP, SigLIP and distilled DeiT', () => {
    expect(presetConfig('vit_base_patch16_clip_224')).toMatchObject({ preNorm: true, patchEmbedBias: false, layerNormEps: 1e-5, activation: 'gelu', numClasses: 0 });
    expect(presetConfig('vit_large_patch14_clip_quickgelu_336')).toMatchObject({ patchSize: 14, imageSize: [336, 336], activation: 'quick_gelu' });
    expect(presetConfig('vit_so400m_patch14_siglip_384')).toMatchObject({ imageSize: [378, 378], embedDim: 1152, depth: 27, mlpDim: 4304, classToken: false, pooling: 'map', activation: 'gelu' });
    expect(presetConfig('vit_large_patch16_siglip_512').activation).toBe('gelu_tanh');
    expect(presetConfig('deit_base_distilled_patch16_384')).toMatchObject({ distilled: true, imageSize: [384, 384], numClasses: 1000 });
  });
});

describe('size limits (what the backends can address)', () => {
  it('refuses tokens, widths, depths and classes beyond one tensor, naming the limit', () => {
    const refused = (input: ViTConfigInput, pattern: RegExp): void => {
      let error: unknown;
      try {
        resolveConfig(input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toMatch(pattern);
      expect(message.split('\n')).toHaveLength(1);
    };
    refused({ imageSize: 65536 }, new RegExp(`image size 65536x65536 .*sides up to ${MAX_IMAGE_SIDE}`));
    refused({ imageSize: 1e9, patchSize: 16 }, /image size 1000000000x1000000000/);
    refused({ imageSize: 4096, patchSize: 16 }, new RegExp(`65537 tokens per image; attention over 12 heads can address at most 6688`));
    refused({ imageSize: 2048, patchSize: 16, numHeads: 64, embedDim: 768 }, /16385 tokens per image; attention over 64 heads can address at most 2896/);
    refused({ embedDim: 20000, numHeads: 8 }, new RegExp(`embedding width 20000 is above the limit of ${MAX_EMBED_DIM}`));
    refused({ depth: 100000, embedDim: 8, numHeads: 1, mlpDim: 8 }, new RegExp(`depth 100000 is above the limit of ${MAX_DEPTH}`));
    refused({ numClasses: 100_000_000 }, /100000000 classes at embedding width 768 is above the limit of 699050/);
    refused({ depth: 1000, embedDim: 1024, numHeads: 16 }, /about \d+ weights, more than the 1073741824/);
    // The largest real models stay within the limits.
    expect(() => resolveConfig({ imageSize: 224, patchSize: 14, embedDim: 1408, numHeads: 16, depth: 40, mlpDim: 6144 })).not.toThrow(); // ViT-g/14
    expect(MAX_TOKENS * MAX_TOKENS).toBeLessThanOrEqual(MAX_TENSOR_ELEMENTS);
  });
});
