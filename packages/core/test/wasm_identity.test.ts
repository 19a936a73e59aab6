import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../src/index.js';

describe("vitkit's Identity for the wasm backend (shares data, no copy)", () => {
  beforeAll(async () => {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await setupBackend('wasm');
  });

  it('clones hold the same values, survive the original and free the memory with the last reference', () => {
    const before = tf.memory();
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(y.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('gives the gradients tfjs computes through saved (cloned) tensors, and strings still copy', () => {
    const x = tf.tensor([0.5, -1, 2], [3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.exp(v), v)))(x);
    // d/dx (x e^x) = e^x (1 + x)
    const want = [0.5, -1, 2].map((v) => Math.exp(v) * (1 + v));
    g.dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    const s = tf.tensor(['a', 'b']);
    const c = tf.clone(s);
    expect(c.arraySync()).toEqual(['a', 'b']);
    tf.dispose([x, g, s, c]);
  });

  it('variables assigned after a clone keep the clone unchanged', () => {
    const v = tf.variable(tf.tensor([1, 2]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor([7, 8]));
    expect(snapshot.arraySync()).toEqual([1, 2]);
    expect(v.arraySync()).toEqual([7, 8]);
    tf.dispose([v, snapshot]);
  });
});
