import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError, setupBackend } from '@vitkit/core';
import { Attention } from '../src/index.js';
import { naiveAttention } from './naive.js';

const B = 2;
const T = 5;
const D = 12;
const H = 3;

function random(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-scale, scale));
}

describe.each(['cpu', 'wasm'] as const)('Attention on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it('matches a naive multi-head attention', () => {
    const rng = new Rng(17);
    const w = { qkvW: random(3 * D * D, rng, 0.5), qkvB: random(3 * D, rng, 0.5), projW: random(D * D, rng, 0.5), projB: random(D, rng, 0.5) };
    const attn = new Attention(D, H, { seed: 0 });
    const state = new Map<string, tf.Tensor>([
      ['qkv.weight', tf.tensor(w.qkvW, [3 * D, D])],
      ['qkv.bias', tf.tensor(w.qkvB, [3 * D])],
      ['proj.weight', tf.tensor(w.projW, [D, D])],
      ['proj.bias', tf.tensor(w.projB, [D])],
    ]);
    attn.loadStateDict(state);
    const xData = random(B * T * D, rng);
    const x = tf.tensor3d(xData, [B, T, D]);
    const before = tf.memory().numTensors;
    const { output, attention } = attn.forward(x, { returnAttention: true });
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(output.shape).toEqual([B, T, D]);
    expect(attention!.shape).toEqual([B, H, T, T]);
    const out = output.arraySync();
    const probs = attention!.arraySync();
    let maxDiff = 0;
    for (let b = 0; b < B; b++) {
      const sample = Array.from({ length: T }, (_, t) => Array.from(xData.subarray((b * T + t) * D, (b * T + t + 1) * D)));
      const ref = naiveAttention(sample, w, H);
      ref.output.forEach((row, t) => row.forEach((v, e) => (maxDiff = Math.max(maxDiff, Math.abs(v - out[b]![t]![e]!)))));
      ref.probs.forEach((ph, h) => ph.forEach((row, i) => row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - probs[b]![h]![i]![j]!))))));
    }
    expect(maxDiff).toBeLessThan(1e-5);
    tf.dispose([output, attention!, x, ...state.values()]);
    attn.dispose();
  });

  it('returns probabilities that are non-negative and sum to 1 over keys', () => {
    const attn = new Attention(D, H, { seed: 3 });
    const x = tf.randomNormal([B, T, D], 0, 2, 'float32', 1);
    const { output, attention } = attn.forward(x, { returnAttention: true });
    const sums = tf.sum(attention!, -1);
    const s = sums.dataSync();
    for (const v of s) expect(Math.abs(v - 1)).toBeLessThan(1e-5);
    expect(tf.min(attention!).dataSync()[0]).toBeGreaterThanOrEqual(0);
    tf.dispose([x, output, attention!, sums]);
    attn.dispose();
  });

  it('uses dropout on probabilities and output only in training mode, reproducibly', () => {
    const attn = new Attention(D, H, { attnDrop: 0.3, projDrop: 0.3, seed: 4 });
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    const e1 = attn.forward(x).output;
    const e2 = attn.forward(x).output;
    attn.train();
    const t1 = attn.forward(x, { rng: new Rng(1) }).output;
    const t2 = attn.forward(x, { rng: new Rng(1) }).output;
    const t3 = attn.forward(x, { rng: new Rng(2) }).output;
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    expect(diff(e1, e2)).toBe(0);
    expect(diff(t1, t2)).toBe(0);
    expect(diff(t1, t3)).toBeGreaterThan(1e-3);
    expect(diff(t1, e1)).toBeGreaterThan(1e-3);
    tf.dispose([e1, e2, t1, t2, t3]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    attn.dispose();
  });
});

describe('Attention errors and names', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('names parameters as timm (fused qkv, torch [3D, D])', () => {
    const attn = new Attention(D, H, { seed: 0 });
    const shapes = Object.fromEntries([...attn.namedParameters()].map(([n, p]) => [n, p.torchShape]));
    expect(shapes).toEqual({ 'qkv.weight': [3 * D, D], 'qkv.bias': [3 * D], 'proj.weight': [D, D], 'proj.bias': [D] });
    const noBias = new Attention(D, H, { qkvBias: false, seed: 0 });
    expect(noBias.namedParameters().has('qkv.bias')).toBe(false);
    attn.dispose();
    noBias.dispose();
  });

  it('rejects tokens of the wrong width or rank, and widths not divisible by the head count', () => {
    const attn = new Attention(D, H, { seed: 0 });
    const wrong = tf.zeros([1, T, D + 1]);
    const flat = tf.zeros([T, D]);
    expect(() => attn.forward(wrong as tf.Tensor3D)).toThrow(ShapeError);
    expect(() => attn.forward(flat as unknown as tf.Tensor3D)).toThrow(/\[batch, tokens, 12\]/);
    expect(() => new Attention(10, 3)).toThrow(ConfigError);
    tf.dispose([wrong, flat]);
    attn.dispose();
  });
});
