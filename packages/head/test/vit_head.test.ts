import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, ShapeError, setupBackend } from '@vitkit/core';
import { ViTHead, poolTokens, type HeadConfig } from '../src/index.js';

const D = 6;
const C = 4;
const base: HeadConfig = { embedDim: D, numClasses: C, layerNormEps: 1e-6, pooling: 'token', classToken: true, numRegisterTokens: 0 };

/** LayerNorm of one vector, biased variance, as torch computes it. */
function ln(v: number[], g: ArrayLike<number>, b: ArrayLike<number>, eps: number): number[] {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
  return v.map((x, i) => ((x - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
}

function classify(f: number[], w: ArrayLike<number>, b: ArrayLike<number>): number[] {
  return Array.from({ length: C }, (_, o) => f.reduce((s, x, i) => s + x * w[o * D + i]!, b[o]!));
}

/** Loads random values (PyTorch layout, as the naive code indexes them) and returns them. */
function setRandom(head: ViTHead, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const values = new Map<string, Float32Array>();
  const state = new Map<string, tf.Tensor>();
  for (const [name, p] of head.namedParameters()) {
    const data = Float32Array.from({ length: p.variable.size }, () => rng.uniform(-1, 1) + (name.endsWith('norm.weight') ? 1 : 0));
    state.set(name, tf.tensor(data, p.torchShape));
    values.set(name, data);
  }
  head.loadStateDict(state);
  tf.dispose([...state.values()]);
  return values;
}

const maxDiff = (a: number[], b: ArrayLike<number>) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe.each(['cpu', 'wasm'] as const)('ViTHead on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it('token pooling: final norm, class token, classifier', () => {
    const head = new ViTHead(base, { seed: 0 });
    expect([...head.namedParameters().keys()]).toEqual(['norm.weight', 'norm.bias', 'head.weight', 'head.bias']);
    const p = setRandom(head, 1);
    const x = tf.randomNormal([2, 5, D], 0, 1, 'float32', 1) as tf.Tensor3D;
    const xs = x.arraySync();
    const before = tf.memory().numTensors;
    const out = head.forward(x);
    expect(tf.memory().numTensors).toBe(before + 3);
    for (let b = 0; b < 2; b++) {
      const f = ln(xs[b]![0]!, p.get('norm.weight')!, p.get('norm.bias')!, 1e-6);
      expect(maxDiff(f, out.features.arraySync()[b]!)).toBeLessThan(1e-5);
      expect(maxDiff(classify(f, p.get('head.weight')!, p.get('head.bias')!), out.logits.arraySync()[b]!)).toBeLessThan(1e-5);
      const lastToken = ln(xs[b]![4]!, p.get('norm.weight')!, p.get('norm.bias')!, 1e-6);
      expect(maxDiff(lastToken, out.normed.arraySync()[b]![4]!)).toBeLessThan(1e-5);
    }
    tf.dispose([x, out.logits, out.features, out.normed]);
    expect(tf.memory().numTensors).toBe(before - 1);
    head.dispose();
  });

  it('mean pooling: average of the patch tokens (prefix tokens excluded), then fc_norm', () => {
    const head = new ViTHead({ ...base, pooling: 'mean', numRegisterTokens: 2 }, { seed: 0 });
    expect([...head.namedParameters().keys()]).toEqual(['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias']);
    const p = setRandom(head, 2);
    const x = tf.randomNormal([2, 7, D], 0, 1, 'float32', 2) as tf.Tensor3D;
    const xs = x.arraySync();
    const out = head.forward(x);
    for (let b = 0; b < 2; b++) {
      const patches = xs[b]!.slice(3);
      const mean = Array.from({ length: D }, (_, i) => patches.reduce((s, t) => s + t[i]!, 0) / patches.length);
      const f = ln(mean, p.get('fc_norm.weight')!, p.get('fc_norm.bias')!, 1e-6);
      expect(maxDiff(f, out.features.arraySync()[b]!)).toBeLessThan(1e-5);
      expect(maxDiff(classify(f, p.get('head.weight')!, p.get('head.bias')!), out.logits.arraySync()[b]!)).toBeLessThan(1e-5);
    }
    expect(Array.from(out.normed.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, out.logits, out.features, out.normed]);
    head.dispose();
  });
});

describe('ViTHead without classifier, and errors', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('numClasses 0: no head parameters; logits are the pooled features', () => {
    const head = new ViTHead({ ...base, numClasses: 0 }, { seed: 0 });
    expect([...head.namedParameters().keys()]).toEqual(['norm.weight', 'norm.bias']);
    expect(head.norm).toBeDefined();
    expect(head.head).toBeUndefined();
    const x = tf.randomNormal([3, 5, D]) as tf.Tensor3D;
    const out = head.forward(x);
    expect(out.logits.shape).toEqual([3, D]);
    expect(out.logits).toBe(out.features);
    tf.dispose([x, out.logits, out.normed]);
    head.dispose();
  });

  it('poolTokens picks token 0 or averages after the prefix', () => {
    const x = tf.tensor3d([[[1, 2], [3, 4], [5, 6], [7, 8]]]);
    const token = poolTokens(x, 'token', 1);
    const mean = poolTokens(x, 'mean', 1);
    const meanAll = poolTokens(x, 'mean', 0);
    expect(Array.from(token.dataSync())).toEqual([1, 2]);
    expect(Array.from(mean.dataSync())).toEqual([5, 6]);
    expect(Array.from(meanAll.dataSync())).toEqual([4, 5]);
    tf.dispose([x, token, mean, meanAll]);
  });

  it('rejects tokens of the wrong width, or with no patch tokens', () => {
    const head = new ViTHead({ ...base, numRegisterTokens: 2 }, { seed: 0 });
    const wide = tf.zeros([1, 5, D + 1]) as tf.Tensor3D;
    const short = tf.zeros([1, 3, D]) as tf.Tensor3D;
    expect(() => head.forward(wide)).toThrow(ShapeError);
    expect(() => head.forward(short)).toThrow(/more than 3 tokens/);
    tf.dispose([wide, short]);
    head.dispose();
  });
});
