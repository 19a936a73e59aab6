import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, setupBackend } from '@vitkit/core';
import { Attention } from '../src/index.js';

const B = 2;
const T = 9;
const D = 12;
const H = 3;

/** Gradients of sum(attention(x) * r) for every parameter and the input, on the active backend. */
function gradients(): { grads: [string, Float32Array][]; dx: Float32Array } {
  const rng = new Rng(9);
  const x = tf.tensor3d(Float32Array.from({ length: B * T * D }, () => rng.uniform(-1, 1)), [B, T, D]);
  const r = tf.tensor3d(Float32Array.from({ length: B * T * D }, () => rng.uniform(-1, 1)), [B, T, D]);
  const attn = new Attention(D, H, { seed: 5 });
  const named = [...attn.variables().entries()];
  const params = named.map(([, v]) => v);
  const loss = (input: tf.Tensor) => tf.sum(tf.mul(attn.forward(input).output, r)) as tf.Scalar;
  const { value, grads } = tf.variableGrads(() => loss(x), params);
  const dx = tf.grad(loss)(x);
  const result = {
    grads: named.map(([name, p]): [string, Float32Array] => [name, Float32Array.from(grads[p.name]!.dataSync())]),
    dx: Float32Array.from(dx.dataSync()),
  };
  tf.dispose([x, r, value, dx, ...Object.values(grads)]);
  attn.dispose();
  return result;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i]!)), 0);
}

describe('attention gradients', () => {
  beforeAll(async () => {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  });

  it('are the same on wasm (vitkit kernels) as on cpu for every parameter and the input', async () => {
    await setupBackend('cpu');
    const cpu = gradients();
    await setupBackend('wasm');
    const wasm = gradients();
    expect(cpu.grads.map(([name]) => name)).toEqual(['qkv.weight', 'qkv.bias', 'proj.weight', 'proj.bias']);
    expect(wasm.grads.map(([name]) => name)).toEqual(cpu.grads.map(([name]) => name));
    cpu.grads.forEach(([name, expected], i) => {
      expect(Math.max(...expected.map(Math.abs)), name).toBeGreaterThan(1e-3);
      expect(maxDiff(wasm.grads[i]![1], expected), name).toBeLessThan(1e-5);
    });
    expect(maxDiff(wasm.dx, cpu.dx)).toBeLessThan(1e-5);
  });
});
