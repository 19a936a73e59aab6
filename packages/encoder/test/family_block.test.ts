// The ViT-family options of a block: qk-norm, LayerScale, the MLP activations.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, geluTanh, layerNorm, quickGelu, setupBackend } from '@vitkit/core';
import { Attention, Block, Mlp } from '../src/index.js';

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/** Random values for every parameter (norm weights around 1), so that each one matters. */
function randomize(module: Attention | Block | Mlp, seed: number): void {
  const rng = new Rng(seed);
  const state = new Map<string, tf.Tensor>();
  for (const [name, p] of module.namedParameters()) {
    const data = Float32Array.from({ length: p.variable.size }, () => rng.uniform(-0.5, 0.5) + (/norm.*weight|gamma/.test(name) ? 1 : 0));
    state.set(name, tf.tensor(data, p.torchShape));
  }
  module.loadStateDict(state);
  tf.dispose([...state.values()]);
}

describe.each(['cpu', 'wasm'] as const)('ViT-family block options on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it('qk-norm: LayerNorm over each head of q and k after the split (timm q_norm, k_norm)', () => {
    const [b, t, d, h] = [2, 5, 8, 2];
    const dh = d / h;
    const attn = new Attention(d, h, { qkNorm: true, normEps: 1e-5, seed: 1 });
    expect([...attn.namedParameters().keys()]).toEqual(['qkv.weight', 'qkv.bias', 'q_norm.weight', 'q_norm.bias', 'k_norm.weight', 'k_norm.bias', 'proj.weight', 'proj.bias']);
    randomize(attn, 2);
    const x = tf.randomNormal([b, t, d], 0, 1, 'float32', 3) as tf.Tensor3D;
    const expected = tf.tidy(() => {
      const qkv = tf.reshape(attn.qkv.forward(x), [b, t, 3, h, dh]);
      const part = (i: number) => tf.transpose(tf.squeeze(tf.slice(qkv, [0, 0, i, 0, 0], [b, t, 1, h, dh]), [2]), [0, 2, 1, 3]); // [B, H, T, Dh]
      const norm = (m: tf.Tensor, n: Attention['qNorm']) => layerNorm(m, n!.weight as tf.Tensor1D, n!.bias as tf.Tensor1D, 1e-5);
      const q = norm(part(0), attn.qNorm);
      const k = norm(part(1), attn.kNorm);
      const probs = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)));
      const ctx = tf.reshape(tf.transpose(tf.matMul(probs, part(2)), [0, 2, 1, 3]), [b, t, d]);
      return attn.proj.forward(ctx);
    });
    const out = attn.forward(x).output;
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-5);
    out.dispose();
    tf.dispose([x, expected]);
    attn.dispose();
  });

  it('LayerScale: ls1/ls2 gammas scale the branches before the residual adds, in timm order', () => {
    const d = 8;
    const block = new Block({ dim: d, numHeads: 2, mlpDim: 16, layerScaleInit: 1e-5, activation: 'quick_gelu' }, { seed: 4 });
    const names = [...block.namedParameters().keys()];
    expect(names.indexOf('ls1.gamma')).toBe(names.indexOf('attn.proj.bias') + 1);
    expect(names.at(-1)).toBe('ls2.gamma');
    expect(Array.from(block.ls1!.gamma.dataSync())).toEqual(new Array(d).fill(Math.fround(1e-5)));
    randomize(block, 5);
    const x = tf.randomNormal([2, 5, d], 0, 1, 'float32', 6) as tf.Tensor3D;
    const expected = tf.tidy(() => {
      const a = tf.mul(block.attn.forward(block.norm1.forward(x) as tf.Tensor3D).output, block.ls1!.gamma);
      const h1 = tf.add(x, a);
      return tf.add(h1, tf.mul(block.mlp.forward(block.norm2.forward(h1)), block.ls2!.gamma));
    });
    const out = block.forward(x).output;
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
    tf.dispose([x, expected, out]);
    block.dispose();
  });

  it('activations: gelu_tanh and quick_gelu as torch defines them, chosen by the Mlp', () => {
    const xs = [-3, -1, -0.25, 0, 0.5, 2];
    const tanhRef = xs.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    const quickRef = xs.map((v) => v / (1 + Math.exp(-1.702 * v)));
    const x = tf.tensor1d(xs);
    const [a, q] = [geluTanh(x), quickGelu(x)];
    expect(maxAbsDiff(a, tf.tensor1d(tanhRef))).toBeLessThan(1e-6);
    expect(maxAbsDiff(q, tf.tensor1d(quickRef))).toBeLessThan(1e-6);
    const mlp = new Mlp(4, 6, { activation: 'gelu_tanh', seed: 7 });
    randomize(mlp, 8);
    const y = tf.randomNormal([3, 4], 0, 1, 'float32', 9);
    const expected = tf.tidy(() => mlp.fc2.forward(geluTanh(mlp.fc1.forward(y))));
    const out = mlp.forward(y);
    expect(maxAbsDiff(out, expected)).toBe(0);
    tf.dispose([x, a, q, y, expected, out]);
    mlp.dispose();
  });
});
