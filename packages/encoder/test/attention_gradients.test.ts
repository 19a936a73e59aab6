import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, setupBackend } from '@vitkit/core';
import { Attention, PER_HEAD_MIN_WORK, resolveStrategy } from '../src/index.js';

const B = 2;
const T = 9;
const D = 12;
const H = 3;

describe.each(['cpu', 'wasm'] as const)('attention gradients on %s', (backend) => {
  beforeAll(async () => {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await setupBackend(backend);
  });

  it('per-head and batched strategies give the same gradients for every parameter and the input', () => {
    const rng = new Rng(9);
    const x = tf.tensor3d(Float32Array.from({ length: B * T * D }, () => rng.uniform(-1, 1)), [B, T, D]);
    const r = tf.tensor3d(Float32Array.from({ length: B * T * D }, () => rng.uniform(-1, 1)), [B, T, D]);
    const attn = new Attention(D, H, { seed: 5 });
    const params = [...attn.variables().values()];
    const gradsOf = (strategy: 'batched' | 'per-head') => {
      attn.strategy = strategy;
      const loss = (input: tf.Tensor) => tf.sum(tf.mul(attn.forward(input).output, r)) as tf.Scalar;
      const { value, grads } = tf.variableGrads(() => loss(x), params);
      const dx = tf.grad(loss)(x);
      value.dispose();
      return { grads, dx };
    };
    const batched = gradsOf('batched');
    const perHead = gradsOf('per-head');
    let compared = 0;
    for (const p of params) {
      const a = batched.grads[p.name]!;
      const b = perHead.grads[p.name]!;
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
      const scale = tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]!);
      expect(scale, p.name).toBeGreaterThan(1e-3);
      expect(diff, p.name).toBeLessThan(1e-5);
      compared++;
    }
    expect(compared).toBe(4);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(batched.dx, perHead.dx))).dataSync()[0]!)).toBeLessThan(1e-5);
    tf.dispose([x, r, batched.dx, perHead.dx, ...Object.values(batched.grads), ...Object.values(perHead.grads)]);
    attn.dispose();
  });
});

describe('attention strategy choice', () => {
  it('auto goes per-head on wasm only for heads big enough', async () => {
    await setupBackend('wasm');
    expect(resolveStrategy('auto', { tokens: 197, headDim: 64 })).toBe('per-head');
    expect(resolveStrategy('auto', { tokens: 17, headDim: 16 })).toBe('batched');
    expect(resolveStrategy('auto', { tokens: 32, headDim: PER_HEAD_MIN_WORK / 1024 })).toBe('per-head');
    expect(resolveStrategy('batched', { tokens: 197, headDim: 64 })).toBe('batched');
    await setupBackend('cpu');
    expect(resolveStrategy('auto', { tokens: 197, headDim: 64 })).toBe('batched');
  });
});
