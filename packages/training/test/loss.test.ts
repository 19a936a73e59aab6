import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, smoothTargets } from '../src/index.js';

/** Cross entropy in double precision, straight from the definition torch documents. */
function reference(logits: number[][], target: (k: number, i: number) => number, s: number): number {
  let total = 0;
  logits.forEach((z, i) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0));
    z.forEach((v, k) => (total -= ((1 - s) * target(k, i) + s / z.length) * (v - lse)));
  });
  return total / logits.length;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`crossEntropy (${backend})`, () => {
    beforeAll(async () => {
      await setupBackend(backend);
    });
    const logits = [
      [2.0, -1.0, 0.5, 0.0],
      [-0.3, 0.8, 3.1, -2.2],
      [0.0, 0.0, 0.0, 0.0],
    ];
    const labels = [0, 2, 3];

    it('matches the definition with and without label smoothing', () => {
      for (const s of [0, 0.1, 0.5]) {
        const got = tf.tidy(() => crossEntropy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32'), { labelSmoothing: s }).dataSync()[0]!);
        expect(got).toBeCloseTo(reference(logits, (k, i) => (k === labels[i] ? 1 : 0), s), 5);
      }
    });

    it('takes soft targets (mixup)', () => {
      const soft = [
        [0.7, 0.3, 0, 0],
        [0, 0.5, 0.5, 0],
        [0.25, 0.25, 0.25, 0.25],
      ];
      const got = tf.tidy(() => crossEntropy(tf.tensor2d(logits), tf.tensor2d(soft), { labelSmoothing: 0.1 }).dataSync()[0]!);
      expect(got).toBeCloseTo(reference(logits, (k, i) => soft[i]![k]!, 0.1), 5);
    });

    it('smooths one-hot targets to (1 - s) onehot + s / K', () => {
      const q = tf.tidy(() => Array.from(smoothTargets(tf.tensor1d([1], 'int32'), 4, 0.2).dataSync()));
      [0.05, 0.85, 0.05, 0.05].forEach((v, i) => expect(q[i]).toBeCloseTo(v, 6));
    });

    it('rejects mismatched shapes and bad smoothing with ShapeErrors', () => {
      const z = tf.zeros([3, 4]);
      expect(() => crossEntropy(z, tf.tensor1d([0, 1], 'int32'))).toThrow(/do not fit/);
      expect(() => crossEntropy(z, tf.tensor1d([0, 1, 2], 'int32'), { labelSmoothing: 1 })).toThrow(/labelSmoothing/);
      expect(() => crossEntropy(tf.zeros([3]), tf.tensor1d([0, 1, 2], 'int32'))).toThrow(/\[batch, classes\]/);
    });
  });
}
