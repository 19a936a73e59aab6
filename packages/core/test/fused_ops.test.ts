// The fused LayerNorm and GELU (wasm: one JS pass forward, one backward)
// against the composite tfjs ops: values and gradients, and the kernels they save.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gelu, layerNorm, setFusedOps, setupBackend } from '../src/index.js';
import { fusedGelu } from '../src/nn/fused_gelu.js';
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
});

describe('fused GELU (wasm)', () => {
  beforeAll(async () => {
    await setupBackend('wasm');
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  });

  it('matches the tfjs ops forward and backward (2e-6), and runs no kernels', async () => {
    const x = tf.mul(tf.randomNormal([6, 40], 0, 1, 'float32', 7), 3);
    const dy = tf.randomNormal([6, 40], 0, 1, 'float32', 8);
    const loss = (a: tf.Tensor) => tf.sum(tf.mul(gelu(a), dy));
    setFusedOps(false);
    const wantY = gelu(x);
    const [wantDx] = tf.grads(loss)([x]);
    setFusedOps(true);
    const gotY = gelu(x);
    const [gotDx] = tf.grads(loss)([x]);
    expect(maxDiff(gotY, wantY)).toBeLessThan(2e-6);
    expect(maxDiff(gotDx!, wantDx!)).toBeLessThan(2e-6);
    // Known values: GELU(1) = 0.8413447, GELU'(1) = Phi(1) + phi(1) = 1.0833155.
    const one = tf.tensor1d([1, 0, -1]);
    expect(Array.from(fusedGelu(one)!.dataSync()).map((v) => +v.toFixed(6))).toEqual([0.841345, 0, -0.158655]);
    const [d] = tf.grads((a: tf.Tensor) => tf.sum(gelu(a)))([one]);
    expect(d!.dataSync()[0]).toBeCloseTo(1.0833155, 6);
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => tf.tidy(() => gelu(x).dataSync()));
    expect(profile.kernels.filter((k) => tf.getKernel(k.name, 'wasm') !== undefined)).toHaveLength(0);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy, wantY, wantDx!, gotY, gotDx!, one, d!]);
  });
});
