import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, setupBackend, ShapeError } from '@vitkit/core';
import { antialiasedBicubicWeights, resamplePosEmbed } from '../src/resample_pos_embed.js';

const dir = fileURLToPath(new URL('../../../fixtures/reference/posembed-resample/', import.meta.url));

function load(name: string): tf.Tensor {
  const a = parseNpy(new Uint8Array(readFileSync(dir + name)));
  return tf.tensor(a.data as Float32Array, a.shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`resamplePosEmbed (${backend})`, () => {
    beforeAll(async () => {
      await setupBackend(backend);
    });

    it.each([
      [6, 'pos_embed_6x6.npy'],
      [3, 'pos_embed_3x3.npy'],
    ])('matches timm/PyTorch antialiased bicubic 4x4 -> %dx%d to 1e-4', (n, file) => {
      const src = load('pos_embed_4x4.npy');
      const expected = load(file);
      const before = tf.memory().numTensors;
      const out = resamplePosEmbed(src, [n, n], { numPrefixTokens: 1 });
      expect(out.shape).toEqual([1, 1 + n * n, 32]);
      expect(maxAbsDiff(out, expected)).toBeLessThan(1e-4);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([src, expected]);
    });

    it('keeps the class token bit-for-bit and copies when the grid does not change', () => {
      const src = load('pos_embed_4x4.npy');
      const out = resamplePosEmbed(src, [6, 6], { numPrefixTokens: 1 });
      const same = resamplePosEmbed(src, [4, 4], { numPrefixTokens: 1, oldGrid: [4, 4] });
      const cls = (t: tf.Tensor) => Array.from(tf.tidy(() => tf.slice(t, [0, 0, 0], [1, 1, 32]).dataSync()));
      expect(cls(out)).toEqual(cls(src));
      expect(Array.from(same.dataSync())).toEqual(Array.from(src.dataSync()));
      expect(same).not.toBe(src);
      tf.dispose([src, out, same]);
    });

    it('handles non-square grids and no prefix tokens', () => {
      // A grid that varies only along columns stays constant along rows after resizing.
      const cols = tf.tidy(() => tf.reshape(tf.tile(tf.reshape(tf.range(0, 4 * 2), [1, 4, 2]), [2, 1, 1]), [1, 8, 2]));
      const out = resamplePosEmbed(cols, [5, 3], { numPrefixTokens: 0, oldGrid: [2, 4] });
      expect(out.shape).toEqual([1, 15, 2]);
      const v = tf.tidy(() => tf.reshape(out, [5, 3, 2]).arraySync() as number[][][]);
      for (const row of v) expect(row).toEqual(v[0]);
      tf.dispose([cols, out]);
    });

    it('rejects shapes it cannot resample with a ShapeError', () => {
      const t = tf.zeros([1, 18, 4]);
      expect(() => resamplePosEmbed(t, [3, 3], { numPrefixTokens: 1 })).toThrow(ShapeError);
      expect(() => resamplePosEmbed(t, [3, 3], { numPrefixTokens: 2, oldGrid: [3, 5] })).toThrow(/does not match/);
      expect(() => resamplePosEmbed(t, [0, 3], { numPrefixTokens: 2 })).toThrow(ShapeError);
      expect(() => resamplePosEmbed(tf.zeros([17, 4]), [3, 3], { numPrefixTokens: 1 })).toThrow(/\[1, tokens, dim\]/);
      t.dispose();
    });
  });
}

describe('antialiasedBicubicWeights', () => {
  it('rows sum to 1 and identity size gives the identity', () => {
    for (const [i, o] of [[4, 6], [4, 3], [7, 2], [5, 5]] as const) {
      const w = antialiasedBicubicWeights(i, o);
      for (let r = 0; r < o; r++) {
        let s = 0;
        for (let c = 0; c < i; c++) s += w[r * i + c]!;
        expect(s).toBeCloseTo(1, 6);
      }
    }
    const id = antialiasedBicubicWeights(5, 5);
    for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) expect(id[r * 5 + c]).toBeCloseTo(r === c ? 1 : 0, 7);
  });
});
