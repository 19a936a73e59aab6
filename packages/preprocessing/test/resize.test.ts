import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { axisCoefficients, resize, resizeTensor, INTERPOLATIONS, type Image8 } from '../src/index.js';
import { diffStats, fixtureNpy, LOCAL_FIXTURES } from './helpers.js';

// Ground truth: Pillow 9.4 Image.resize of a 53x37 noise image (test/fixtures/generate.py).
const SIZES: [number, number][] = [
  [11, 7],
  [100, 80],
  [53, 20],
  [7, 37],
];

describe('Pillow-exact resize', () => {
  let noise: Image8;
  beforeAll(async () => {
    await setupBackend('cpu');
    const n = fixtureNpy(join(LOCAL_FIXTURES, 'resize/noise.npy'));
    noise = { data: n.data as Uint8Array, width: n.shape[1]!, height: n.shape[0]!, channels: 3 };
  });

  for (const filter of INTERPOLATIONS) {
    it(`${filter}: typed-array and tfjs paths equal Pillow bit for bit`, () => {
      for (const [w, h] of SIZES) {
        const ref = fixtureNpy(join(LOCAL_FIXTURES, `resize/noise_${filter}_${w}x${h}.npy`));
        const out = resize(noise, w, h, { interpolation: filter });
        expect([out.height, out.width]).toEqual(ref.shape.slice(0, 2));
        expect(diffStats(out.data, ref.data).max, `${filter} ${w}x${h} typed`).toBe(0);
        const before = tf.memory().numTensors;
        const input = tf.tensor3d(Int32Array.from(noise.data), [noise.height, noise.width, 3], 'int32');
        const t = resizeTensor(input, w, h, { interpolation: filter });
        expect(diffStats(t.dataSync(), ref.data).max, `${filter} ${w}x${h} tfjs`).toBe(0);
        tf.dispose([t, input]);
        expect(tf.memory().numTensors).toBe(before);
      }
    });
  }

  it('computes weights as Pillow: support widened by the scale, normalized to 1', () => {
    // Bilinear 4 -> 2: scale 2 widens the support to 2. Output 0 is centered at 1.0 and
    // reads inputs 0..2 (window trunc(1 - 2 + 0.5) .. trunc(1 + 2 + 0.5)), triangle weights
    // at distances 0.25, 0.25, 0.75 -> 3/4, 3/4, 1/4, normalized -> 3/7, 3/7, 1/7.
    // Output 1 (center 3.0) reads inputs 1..3 -> 1/7, 3/7, 3/7.
    const c = axisCoefficients(4, 2, 'bilinear');
    expect(c.taps).toBe(5);
    expect(Array.from(c.start)).toEqual([0, 1]);
    expect(Array.from(c.count)).toEqual([3, 3]);
    const row0 = Array.from(c.weights.subarray(0, 3));
    expect(row0.map((v) => v * 7)).toEqual([3, 3, 1].map((v) => expect.closeTo(v, 12)));
    const row1 = Array.from(c.weights.subarray(c.taps, c.taps + 3));
    expect(row1.map((v) => v * 7)).toEqual([1, 3, 3].map((v) => expect.closeTo(v, 12)));
    // Fixed point as Pillow stores it: round(w * 2^22).
    expect(c.fixed[0]).toBe(Math.round((3 / 7) * 2 ** 22));
  });

  it('float precision skips the intermediate rounding and stays close to the exact path', () => {
    const f = resize({ ...noise, data: Float32Array.from(noise.data) }, 11, 7, { interpolation: 'bicubic', precision: 'float' });
    const ref = fixtureNpy(join(LOCAL_FIXTURES, 'resize/noise_bicubic_11x7.npy'));
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(diffStats(f.data, ref.data).max).toBeLessThan(1.5);
    expect(f.data.some((v) => !Number.isInteger(v))).toBe(true);
  });

  it('rejects bad targets with a ConfigError', () => {
    expect(() => resize(noise, 0, 10)).toThrow(/positive integers/);
    expect(() => resize(noise, 2.5, 10)).toThrow(/positive integers/);
    expect(() => resize({ ...noise, width: 10 }, 5, 5)).toThrow(/values but/);
  });
});
