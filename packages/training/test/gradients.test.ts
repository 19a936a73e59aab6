import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradientsRegistered, registerGradients } from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

describe('registerGradients', () => {
  beforeAll(async () => {
    await setupBackend('wasm');
  });

  it('registers tfjs gradients once, idempotently, so tf.grad works', async () => {
    await Promise.all([registerGradients(), registerGradients()]);
    await registerGradients();
    expect(gradientsRegistered()).toBe(true);
    // d/dx sum(erf(x) * x^2) = erf'(x) x^2 + 2x erf(x), erf'(x) = 2/sqrt(pi) exp(-x^2)
    const xs = [-1.5, -0.2, 0.3, 2];
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.erf(x), tf.square(x))))(tf.tensor1d(xs));
    const erf = (x: number): number => tf.tidy(() => tf.erf(tf.scalar(x)).dataSync()[0]!);
    const expected = xs.map((x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * x * x + 2 * x * erf(x));
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    g.dispose();
  });

  // matMul gradients (on the wasm backend: vitkit's BatchMatMul kernel) must equal the textbook
  // ones for every transpose combination, for plain 2-D, batch-1 3-D and real batched products.
  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [5, 3], b: [3, 4], ta: false, tb: false },
    { a: [5, 3], b: [4, 3], ta: false, tb: true },
    { a: [3, 5], b: [3, 4], ta: true, tb: false },
    { a: [3, 5], b: [4, 3], ta: true, tb: true },
    { a: [1, 5, 3], b: [1, 3, 4], ta: false, tb: false },
    { a: [2, 5, 3], b: [2, 4, 3], ta: false, tb: true },
  ];
  for (const c of cases) {
    it(`matMul gradient a${JSON.stringify(c.a)}${c.ta ? 'ᵀ' : ''} b${JSON.stringify(c.b)}${c.tb ? 'ᵀ' : ''}`, async () => {
      await registerGradients();
      const a = tf.randomNormal(c.a, 0, 1, 'float32', 1);
      const b = tf.randomNormal(c.b, 0, 1, 'float32', 2);
      const outShape = tf.tidy(() => tf.matMul(a, b, c.ta, c.tb).shape);
      const w = tf.randomNormal(outShape, 0, 1, 'float32', 3);
      // loss = sum(w * op(a) op(b)): dL/dop(a) = w op(b)^T, dL/dop(b) = op(a)^T w, computed without matMul gradients.
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(w, tf.matMul(x, y, c.ta, c.tb))))([a, b]);
      const [ea, eb] = tf.tidy(() => {
        const swap = (t: tf.Tensor): tf.Tensor => tf.transpose(t, [...t.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : i === all.length - 2 ? i + 1 : i - 1)));
        const opA = c.ta ? swap(a) : a;
        const opB = c.tb ? swap(b) : b;
        const dOpA = tf.matMul(w, swap(opB));
        const dOpB = tf.matMul(swap(opA), w);
        return [c.ta ? swap(dOpA) : dOpA, c.tb ? swap(dOpB) : dOpB];
      });
      expect(maxAbsDiff(ga!, ea!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(gb!, eb!)).toBeLessThan(1e-5);
      tf.dispose([a, b, w, ga!, gb!, ea!, eb!]);
    });
  }
});
