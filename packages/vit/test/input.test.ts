import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, setupBackend } from '@vitkit/core';
import { VisionTransformer, createViT } from '../src/index.js';
import { microConfig } from './helpers/fixtures.js';

describe('VisionTransformer input validation', () => {
  let model: VisionTransformer;

  beforeAll(async () => {
    await setupBackend('cpu');
    model = new VisionTransformer(microConfig(), { seed: 0 });
  });

  afterAll(() => model.dispose());

  const bad: [string, number[], RegExp][] = [
    ['rank 2', [32, 96], /one image \[32, 32, 3\] or a batch/],
    ['rank 5', [1, 1, 32, 32, 3], /one image \[32, 32, 3\] or a batch/],
    ['NCHW', [2, 3, 32, 32], /3 channels.*NCHW/],
    ['4 channels', [1, 32, 32, 4], /3 channels/],
    ['wrong size', [1, 64, 64, 3], /64x64 does not match the model's 32x32/],
    ['not a multiple of the patch', [1, 30, 30, 3], /30x30 is not a multiple of the patch size 8/],
  ];

  it.each(bad)('rejects %s input with a ShapeError', (_name, shape, message) => {
    const x = tf.zeros(shape);
    expect(() => model.forward(x)).toThrow(ShapeError);
    expect(() => model.predict(x)).toThrow(message);
    x.dispose();
  });

  it('rejects int32 images', () => {
    const x = tf.zeros([1, 32, 32, 3], 'int32');
    expect(() => model.predict(x)).toThrow(/float32/);
    x.dispose();
  });

  it('accepts one image [H, W, C] as a batch of one', () => {
    const x = tf.randomNormal([32, 32, 3], 0, 1, 'float32', 7);
    const batch = tf.expandDims(x, 0);
    const single = model.predict(x);
    const batched = model.predict(batch);
    expect(single.shape).toEqual([1, 10]);
    expect(Array.from(single.dataSync())).toEqual(Array.from(batched.dataSync()));
    tf.dispose([x, batch, single, batched]);
  });

  it('createViT builds presets with overrides and rejects unknown names', () => {
    const m = createViT('vit_tiny_patch16_224', { numClasses: 7, depth: 1 }, { seed: 0 });
    expect(m.config.embedDim).toBe(192);
    expect(m.config.numClasses).toBe(7);
    expect(m.config.depth).toBe(1);
    expect(m.numTokens).toBe(197);
    m.dispose();
    expect(() => createViT('vit_nonexistent')).toThrow(ConfigError);
    expect(() => createViT({ embedDim: 30, numHeads: 4 })).toThrow(ConfigError);
  });

  it("createViT(model.config, overrides) re-derives fcNorm as timm does, keeping an explicit one", () => {
    const base = createViT(microConfig(), {}, { seed: 0 });
    const mean = createViT(base.config, { pooling: 'mean' }, { seed: 0 });
    expect(mean.config.fcNorm).toBe(true);
    expect([...mean.namedParameters().keys()]).toContain('fc_norm.weight');
    const kept = createViT({ ...microConfig(), fcNorm: false }, {}, { seed: 0 });
    const keptMean = createViT(kept.config, { pooling: 'mean' }, { seed: 0 });
    expect(keptMean.config.fcNorm).toBe(false);
    for (const m of [base, mean, kept, keptMean]) m.dispose();
  });
});
