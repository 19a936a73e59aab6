import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, resolveConfig, setupBackend, type ViTConfig } from '@vitkit/core';
import { ViTInputLayer } from '../src/index.js';

const base: ViTConfig = resolveConfig({ imageSize: 16, patchSize: 4, embedDim: 8, numHeads: 2, depth: 1, numClasses: 3 });

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('ViTInputLayer', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('names parameters as timm, in timm state_dict order', () => {
    const layer = new ViTInputLayer({ ...base, numRegisterTokens: 2 }, { seed: 0 });
    expect([...layer.namedParameters().keys()]).toEqual(['cls_token', 'reg_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias']);
    const shapes = Object.fromEntries([...layer.namedParameters()].map(([n, p]) => [n, p.torchShape]));
    expect(shapes).toEqual({
      cls_token: [1, 1, 8],
      reg_token: [1, 2, 8],
      pos_embed: [1, 1 + 2 + 16, 8],
      'patch_embed.proj.weight': [8, 3, 4, 4],
      'patch_embed.proj.bias': [8],
    });
    expect(layer.numTokens).toBe(19);
    layer.dispose();
  });

  it('puts class token first and adds position embeddings to every token (timm _pos_embed)', () => {
    const layer = new ViTInputLayer(base, { seed: 1 });
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 3);
    const out = layer.forward(x);
    expect(out.shape).toEqual([2, 17, 8]);
    const expected = tf.tidy(() => {
      const patches = layer.patchEmbed.forward(x);
      return tf.add(tf.concat([tf.tile(layer.clsToken!, [2, 1, 1]), patches], 1), layer.posEmbed);
    });
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
    tf.dispose([x, out, expected]);
    layer.dispose();
  });

  it('with noEmbedClass adds position embeddings to the patches only', () => {
    const layer = new ViTInputLayer({ ...base, numRegisterTokens: 1, noEmbedClass: true }, { seed: 1 });
    expect(layer.posEmbed.shape).toEqual([1, 16, 8]);
    const x = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 4);
    const out = layer.forward(x);
    const prefix = tf.slice(out, [0, 0, 0], [1, 2, 8]);
    const expectedPrefix = tf.concat([layer.clsToken!, layer.regToken!], 1);
    expect(maxAbsDiff(prefix, expectedPrefix)).toBe(0);
    tf.dispose([x, out, prefix, expectedPrefix]);
    layer.dispose();
  });

  it('initializes like timm: pos_embed trunc-normal(0.02), tokens normal(1e-6)', () => {
    const layer = new ViTInputLayer({ ...base, imageSize: 64 }, { seed: 5 });
    const pos = Array.from(layer.posEmbed.dataSync());
    const std = Math.sqrt(pos.reduce((s, v) => s + v * v, 0) / pos.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.02);
    expect(Math.max(...pos.map(Math.abs))).toBeLessThanOrEqual(0.04 + 1e-6);
    const cls = Array.from(layer.clsToken!.dataSync());
    expect(Math.max(...cls.map(Math.abs))).toBeLessThan(1e-5);
    expect(Math.max(...cls.map(Math.abs))).toBeGreaterThan(0);
    layer.dispose();
  });

  it('applies dropout only in training mode, reproducibly from an Rng, and leaks nothing', () => {
    const layer = new ViTInputLayer({ ...base, dropout: 0.5 }, { seed: 2 });
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5);
    const before = tf.memory().numTensors;
    const e1 = layer.forward(x);
    const e2 = layer.forward(x);
    expect(maxAbsDiff(e1, e2)).toBe(0);
    layer.train();
    const t1 = layer.forward(x, { rng: new Rng(1) });
    const t2 = layer.forward(x, { rng: new Rng(1) });
    const t3 = layer.forward(x, { rng: new Rng(2) });
    expect(maxAbsDiff(t1, t2)).toBe(0);
    expect(maxAbsDiff(t1, t3)).toBeGreaterThan(0);
    const zeros = tf.tidy(() => tf.sum(tf.cast(tf.equal(t1, 0), 'float32')).dataSync()[0]!);
    expect(zeros / t1.size).toBeGreaterThan(0.4);
    expect(zeros / t1.size).toBeLessThan(0.6);
    tf.dispose([e1, e2, t1, t2, t3]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    layer.dispose();
  });
});
