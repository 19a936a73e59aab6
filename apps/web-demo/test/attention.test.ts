import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseNpy, resolveConfig, setupBackend } from '@vitkit/core';
import type { ImageClassifier } from '@vitkit/tasks';
import { beforeAll, describe, expect, it } from 'vitest';
import { attentionMaps } from '../src/attention/maps.js';
import { embeddingText } from '../src/ui/results_view.js';
import { predict } from '../src/worker/predict.js';
import { APP_DIR } from './support/build.js';

/** Block 0 attention of vit-micro from torchvision: [2 images, 4 heads, 17 tokens, 17 tokens]. */
const A = parseNpy(new Uint8Array(readFileSync(join(APP_DIR, '..', '..', 'fixtures', 'reference', 'vit-micro', 'expected_attention_block0.npy'))));
const [B, H, T] = A.shape as [number, number, number, number];
const at = (b: number, h: number, i: number, j: number): number => A.data[((b * H + h) * T + i) * T + j]!;

/** Head-mean attention of one image plus the identity, rows renormalized: the rollout's per-block factor. */
function rolloutFactor(b: number): number[][] {
  return Array.from({ length: T }, (_, i) => {
    const row = Array.from({ length: T }, (_, j) => {
      let m = 0;
      for (let h = 0; h < H; h++) m += at(b, h, i, j) / H;
      return 0.5 * m + (i === j ? 0.5 : 0);
    });
    const sum = row.reduce((a, v) => a + v, 0);
    return row.map((v) => v / sum);
  });
}

function matMul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

function maxDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let d = 0;
  for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
  return d;
}

describe('attentionMaps', () => {
  let attention: tf.Tensor4D;

  beforeAll(async () => {
    await setupBackend('cpu');
    attention = tf.tensor4d(A.data as Float32Array, [B, H, T, T]);
  });

  it('per head: the class token’s row over the patches, for the chosen image', () => {
    for (const index of [0, 1]) {
      const maps = attentionMaps([attention, attention], { prefixTokens: 1, classToken: true, index });
      expect(maps.perHead.shape).toEqual([2, H, T - 1]);
      const want: number[] = [];
      for (let layer = 0; layer < 2; layer++) for (let h = 0; h < H; h++) for (let p = 1; p < T; p++) want.push(at(index, h, 0, p));
      expect(maxDiff(maps.perHead.dataSync(), want)).toBeLessThan(1e-7);
      tf.dispose([maps.perHead, maps.rollout]);
    }
  });

  it('per head without a class token: the mean attention each patch receives from the patches', () => {
    // Treat all 17 tokens as patches (no prefix), as a mean-pooled model would.
    const maps = attentionMaps([attention], { prefixTokens: 0, classToken: false });
    const want: number[] = [];
    for (let h = 0; h < H; h++) {
      for (let p = 0; p < T; p++) {
        let s = 0;
        for (let q = 0; q < T; q++) s += at(0, h, q, p);
        want.push(s / T);
      }
    }
    expect(maxDiff(maps.perHead.dataSync(), want)).toBeLessThan(1e-6);
    tf.dispose([maps.perHead, maps.rollout]);
  });

  it('rollout of one block: half the head-mean attention plus half the identity, class-token row', () => {
    const maps = attentionMaps([attention], { prefixTokens: 1, classToken: true });
    const want = rolloutFactor(0)[0]!.slice(1);
    expect(maxDiff(maps.rollout.dataSync(), want)).toBeLessThan(1e-6);
    tf.dispose([maps.perHead, maps.rollout]);
  });

  it('rollout of two blocks multiplies the later block on the left', () => {
    // Different blocks (image 1's attention as block 0, image 0's as block 1) make the order matter.
    const first = tf.slice(attention, [1, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const second = tf.slice(attention, [0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const maps = attentionMaps([first, second], { prefixTokens: 1, classToken: true });
    const want = matMul(rolloutFactor(0), rolloutFactor(1))[0]!.slice(1);
    expect(maxDiff(maps.rollout.dataSync(), want)).toBeLessThan(1e-6);
    const reversed = matMul(rolloutFactor(1), rolloutFactor(0))[0]!.slice(1);
    expect(maxDiff(maps.rollout.dataSync(), reversed)).toBeGreaterThan(1e-4);
    tf.dispose([maps.perHead, maps.rollout, first, second]);
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const maps = attentionMaps([attention, attention], { prefixTokens: 1, classToken: true });
      tf.dispose([maps.perHead, maps.rollout]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('classify for models without classifier or attention map', () => {
  it('summarizes embeddings instead of inventing classes, and hides a map it cannot make', async () => {
    await setupBackend('cpu');
    const config = resolveConfig({ imageSize: 8, patchSize: 4, embedDim: 4, depth: 1, numHeads: 1, numClasses: 0, classToken: false, pooling: 'map' });
    // A model whose forward returns no attention: the map degrades to a note, the output stands.
    const model = {
      config,
      forward: () => {
        const logits = tf.tensor2d([[3, 4, 0, 0]]);
        return { logits, features: logits, attentions: [] };
      },
    };
    const classifier = { config, model, labels: undefined, details: { head: 'none', preprocessSource: 'none', decode: {} } } as unknown as ImageClassifier;
    const input = { kind: 'npy' as const, data: new Float32Array(8 * 8 * 3), shape: [1, 8, 8, 3], name: 'zeros.npy' };
    const before = tf.memory().numTensors;
    const result = await predict(classifier, input, { preset: 'model', invert: false }, 'cpu');
    expect(tf.memory().numTensors).toBe(before);
    expect(result.top).toEqual([]);
    expect(result.embedding).toEqual({ dim: 4, norm: 5, first: [3, 4, 0, 0] });
    expect(embeddingText(result)).toBe('This model returns embeddings (4 values), no labels. Norm 5.0000; first values [3.0000, 4.0000, 0.0000, 0.0000].');
    expect(result.attention.available).toBe(false);
    expect(result.attention.note).toMatch(/^No attention map for this model/);
  });
});
