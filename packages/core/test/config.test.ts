import { describe, expect, it } from 'vitest';
import { ConfigError, numTokens, patchGrid, presetConfig, presetNames, resolveConfig } from '../src/index.js';

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
