import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dropout, dropPath, fromTorchLayout, gelu, layerNorm, linear, Rng, setupBackend, toTorchLayout } from '../src/index.js';

describe.each(['cpu', 'wasm'] as const)('functional ops on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it('gelu is the exact erf form', () => {
    // Phi(x) from the standard normal table: Phi(1) = 0.8413447460685429, Phi(-2) = 0.022750131948179195
    const y = gelu(tf.tensor1d([1, -2, 0]));
    const v = y.dataSync();
    expect(v[0]).toBeCloseTo(0.8413447460685429, 6);
    expect(v[1]).toBeCloseTo(-2 * 0.022750131948179195, 6);
    expect(v[2]).toBe(0);
    y.dispose();
  });

  it('layerNorm uses the biased variance', () => {
    // [1, 2, 3, 4]: mean 2.5, biased variance 1.25
    const y = layerNorm(tf.tensor2d([[1, 2, 3, 4]]), tf.ones([4]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D, 0);
    const expected = [-1.5, -0.5, 0.5, 1.5].map((d) => d / Math.sqrt(1.25));
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    y.dispose();
  });

  it('linear works on rank-3 input', () => {
    const x = tf.tensor3d([[[1, 2]], [[3, 4]]]);
    const w = tf.tensor2d([[1, 0, 1], [0, 1, 1]]);
    const b = tf.tensor1d([0, 0, 10]);
    const y = linear(x, w, b);
    expect(y.shape).toEqual([2, 1, 3]);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 13, 3, 4, 17]);
    tf.dispose([x, w, b, y]);
  });

  it('dropout and dropPath are reproducible with a seed and keep the mean', () => {
    const x = tf.ones([64, 64]);
    const a = dropout(x, 0.25, new Rng(7));
    const b = dropout(x, 0.25, new Rng(7));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const mean = tf.mean(a).dataSync()[0]!;
    expect(Math.abs(mean - 1)).toBeLessThan(0.06);
    const p = dropPath(tf.ones([256, 3, 2]), 0.5, new Rng(1));
    const perSample = tf.reshape(p, [256, 6]).arraySync() as number[][];
    for (const row of perSample) expect(new Set(row).size).toBe(1); // whole sample kept or dropped
    tf.dispose([x, a, b, p]);
  });

  it('converts patch layouts both ways', () => {
    const torch = tf.randomNormal([5, 3, 2, 2], 0, 1, 'float32', 3);
    const internal = fromTorchLayout('patch', torch);
    expect(internal.shape).toEqual([12, 5]);
    const back = toTorchLayout('patch', internal, [5, 3, 2, 2]);
    expect(Array.from(back.dataSync())).toEqual(Array.from(torch.dataSync()));
    tf.dispose([torch, internal, back]);
  });
});
