import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, setupBackend } from '@vitkit/core';
import { Mlp } from '../src/index.js';
import { naiveMlp } from './naive.js';

describe.each(['cpu', 'wasm'] as const)('Mlp on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it('matches fc2(exact GELU(fc1(x))) computed naively', () => {
    const rng = new Rng(5);
    const [d, hidden] = [6, 10];
    const r = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
    const [fc1W, fc1B, fc2W, fc2B] = [r(hidden * d), r(hidden), r(d * hidden), r(d)];
    const mlp = new Mlp(d, hidden, { seed: 0 });
    const state = new Map<string, tf.Tensor>([
      ['fc1.weight', tf.tensor(fc1W, [hidden, d])],
      ['fc1.bias', tf.tensor(fc1B, [hidden])],
      ['fc2.weight', tf.tensor(fc2W, [d, hidden])],
      ['fc2.bias', tf.tensor(fc2B, [d])],
    ]);
    mlp.loadStateDict(state);
    const xData = Float32Array.from({ length: 3 * d }, () => rng.uniform(-3, 3));
    const x = tf.tensor3d(xData, [1, 3, d]);
    const y = mlp.forward(x);
    expect(y.shape).toEqual([1, 3, d]);
    const got = y.dataSync();
    let maxDiff = 0;
    for (let t = 0; t < 3; t++) {
      const ref = naiveMlp(Array.from(xData.subarray(t * d, (t + 1) * d)), fc1W, fc1B, fc2W, fc2B, hidden);
      ref.forEach((v, e) => (maxDiff = Math.max(maxDiff, Math.abs(v - got[t * d + e]!))));
    }
    expect(maxDiff).toBeLessThan(1e-5);
    tf.dispose([x, y, ...state.values()]);
    mlp.dispose();
  });
});
