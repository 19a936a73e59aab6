// The fused LayerNorm (wasm: one JS pass forward, one backward) against the
// composite tfjs ops: values and gradients, and the kernels it saves.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { layerNorm, setupBackend } from '../src/index.js';
import { fusedLayerNorm } from '../src/nn/fused_layer_norm.js';

function composite(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const axis = x.rank - 1;
  const mean = tf.mean(x, axis, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axis, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('fused LayerNorm (wasm)', () => {
  beforeAll(async () => {
    await setupBackend('wasm');
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  });

  it('matches the composite ops forward (1e-5) and in all three gradients (1e-5)', () => {
    const x = tf.add(tf.mul(tf.randomNormal([3, 5, 24], 0, 1, 'float32', 1), 3), 2);
    const gamma = tf.randomNormal([24], 1, 0.3, 'float32', 2) as tf.Tensor1D;
    const beta = tf.randomNormal([24], 0, 0.3, 'float32', 3) as tf.Tensor1D;
    const dy = tf.randomNormal([3, 5, 24], 0, 1, 'float32', 4);
    const fused = fusedLayerNorm(x, gamma, beta, 1e-6)!;
    expect(fused).toBeDefined();
    expect(maxDiff(fused, composite(x, gamma, beta, 1e-6))).toBeLessThan(1e-5);
    const f = (fn: typeof composite) => tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a, g, b, 1e-6), dy)));
    const got = f((a, g, b, e) => fusedLayerNorm(a, g as tf.Tensor1D, b as tf.Tensor1D, e)!)([x, gamma, beta]);
    const want = f(composite)([x, gamma, beta]);
    for (let i = 0; i < 3; i++) {
      expect(got[i]!.shape).toEqual(want[i]!.shape);
      expect(maxDiff(got[i]!, want[i]!)).toBeLessThan(1e-5);
    }
    tf.dispose([x, gamma, beta, dy, fused, ...got, ...want]);
  });

  it('runs no normalization kernels and leaks no tensors, with or without a gradient tape', async () => {
    const x = tf.randomNormal([4, 17, 64], 0, 1, 'float32', 5);
    const gamma = tf.ones([64]) as tf.Tensor1D;
    const beta = tf.zeros([64]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => tf.tidy(() => layerNorm(x, gamma, beta, 1e-6).dataSync()));
    expect(profile.kernels.filter((k) => tf.getKernel(k.name, 'wasm') !== undefined)).toHaveLength(0);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(layerNorm(a, b as tf.Tensor1D, beta, 1e-6)))([x, gamma]);
    tf.dispose(g);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta]);
  });

  it('leaves large inputs outside training to the composite ops (XNNPACK threads are as fast there)', async () => {
    const x = tf.randomNormal([8, 197, 200], 0, 1, 'float32', 6);
    const gamma = tf.ones([200]) as tf.Tensor1D;
    const beta = tf.zeros([200]) as tf.Tensor1D;
    expect(fusedLayerNorm(x, gamma, beta, 1e-6)).toBeUndefined();
    const profile = await tf.profile(() => tf.tidy(() => layerNorm(x, gamma, beta, 1e-6).dataSync()));
    expect(profile.kernels.map((k) => k.name)).toContain('Rsqrt');
    tf.dispose([x, gamma, beta]);
  });
});
