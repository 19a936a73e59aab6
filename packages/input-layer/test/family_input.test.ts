// The ViT-family parts of the input layer: distillation token, norm_pre, no patch bias,
// dynamic image size (timm resampling, per-size cache that follows pos_embed).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, layerNorm, resolveConfig, setupBackend } from '@vitkit/core';
import { ViTInputLayer, resamplePosEmbed } from '../src/index.js';

// Unresolved: resolveConfig derives patchEmbedBias (and fcNorm) only when they are not given.
const input = { imageSize: 28, patchSize: 7, embedDim: 8, numHeads: 2, depth: 1, numClasses: 3 } as const;
const base = resolveConfig(input);
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('ViTInputLayer, ViT family', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('distilled + pre-norm: timm state-dict order, dist_token after cls_token, no patch bias, norm_pre last', () => {
    const layer = new ViTInputLayer(resolveConfig({ ...input, distilled: true, preNorm: true }), { seed: 0 });
    expect([...layer.namedParameters().keys()]).toEqual(['cls_token', 'dist_token', 'pos_embed', 'patch_embed.proj.weight', 'norm_pre.weight', 'norm_pre.bias']);
    expect(layer.posEmbed.shape).toEqual([1, 2 + 16, 8]);
    const x = tf.randomNormal([2, 28, 28, 3], 0, 1, 'float32', 1);
    const out = layer.forward(x);
    const expected = tf.tidy(() => {
      const tokens = tf.add(tf.concat([tf.tile(layer.clsToken!, [2, 1, 1]), tf.tile(layer.distToken!, [2, 1, 1]), layer.patchEmbed.forward(x)], 1), layer.posEmbed);
      return layerNorm(tokens, layer.normPre!.weight as tf.Tensor1D, layer.normPre!.bias as tf.Tensor1D, 1e-6);
    });
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
    tf.dispose([x, out, expected]);
    layer.dispose();
  });

  it('dynamic image size: any multiple of the patch, pos_embed resampled as timm (prefix kept); other sizes name the nearest valid ones', () => {
    const layer = new ViTInputLayer({ ...base, numRegisterTokens: 2, dynamicImageSize: true }, { seed: 2 });
    const x = tf.randomNormal([1, 35, 42, 3], 0, 1, 'float32', 3);
    const out = layer.forward(x);
    expect(out.shape).toEqual([1, 3 + 30, 8]);
    const expected = tf.tidy(() => {
      const pos = resamplePosEmbed(layer.posEmbed, [5, 6], { numPrefixTokens: 3, oldGrid: [4, 4] });
      const prefix = tf.concat([layer.clsToken!, layer.regToken!], 1);
      return tf.add(tf.concat([prefix, layer.patchEmbed.forward(x)], 1), pos);
    });
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
    expect(() => layer.forward(tf.zeros([1, 35, 40, 3]))).toThrow(ShapeError);
    expect(() => layer.forward(tf.zeros([1, 35, 40, 3]))).toThrow(/35x40 is not a multiple of patch 7: use 35x35 or 35x42/);
    expect(() => layer.forward(tf.zeros([1, 30, 40, 3]))).toThrow(/use 28x35 or 35x42/);
    const fixed = new ViTInputLayer(base, { seed: 2 });
    expect(() => fixed.forward(x)).toThrow(/does not match the model's 28x28/);
    tf.dispose([x, out, expected]);
    layer.dispose();
    fixed.dispose();
  });

  it('the cached resampling follows pos_embed when it is assigned (loadStateDict, optimizer steps)', () => {
    const layer = new ViTInputLayer({ ...base, dynamicImageSize: true }, { seed: 4 });
    const x = tf.randomNormal([1, 21, 35, 3], 0, 1, 'float32', 5);
    const first = layer.forward(x);
    layer.posEmbed.assign(tf.mul(layer.posEmbed, 3));
    const second = layer.forward(x);
    const expected = tf.tidy(() =>
      tf.add(tf.concat([layer.clsToken!, layer.patchEmbed.forward(x)], 1), resamplePosEmbed(layer.posEmbed, [3, 5], { numPrefixTokens: 1, oldGrid: [4, 4] })),
    );
    expect(maxAbsDiff(first, second)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(second, expected)).toBeLessThan(1e-6);
    tf.dispose([x, first, second, expected]);
    layer.dispose();
  });
});
