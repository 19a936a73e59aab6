import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, resolveConfig, setupBackend, ShapeError } from '@vitkit/core';
import { Block, ViTEncoder, dropPathRates } from '../src/index.js';

const config = resolveConfig({ imageSize: 16, patchSize: 4, embedDim: 16, depth: 3, numHeads: 4, mlpDim: 32, numClasses: 2 });

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('ViTEncoder', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('names blocks like timm`s `blocks` Sequential', () => {
    const enc = new ViTEncoder(config, { seed: 0 });
    const names = [...enc.namedParameters().keys()];
    expect(names.slice(0, 12)).toEqual([
      '0.norm1.weight', '0.norm1.bias', '0.attn.qkv.weight', '0.attn.qkv.bias', '0.attn.proj.weight', '0.attn.proj.bias',
      '0.norm2.weight', '0.norm2.bias', '0.mlp.fc1.weight', '0.mlp.fc1.bias', '0.mlp.fc2.weight', '0.mlp.fc2.bias',
    ]);
    expect(names).toHaveLength(36);
    expect(enc.namedParameters().get('2.mlp.fc1.weight')!.torchShape).toEqual([32, 16]);
    enc.dispose();
  });

  it('spreads stochastic depth linearly from 0 to the configured rate', () => {
    expect(dropPathRates(3, 0.1)).toEqual([0, 0.05, 0.1]);
    expect(dropPathRates(1, 0.1)).toEqual([0]);
    const enc = new ViTEncoder({ ...config, dropPath: 0.2 }, { seed: 0 });
    expect(enc.blocks.map((b) => b.dropPath)).toEqual([0, 0.1, 0.2]);
    enc.dispose();
  });

  it('returns per-block attentions and hidden states on request, and leaks nothing', () => {
    const enc = new ViTEncoder(config, { seed: 1 });
    const x = tf.randomNormal([2, 17, 16], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    const plain = enc.forward(x);
    expect(plain.attentions).toBeUndefined();
    expect(plain.hiddenStates).toBeUndefined();
    const full = enc.forward(x, { returnAttention: true, returnHiddenStates: true });
    expect(full.attentions!.map((a) => a.shape)).toEqual([[2, 4, 17, 17], [2, 4, 17, 17], [2, 4, 17, 17]]);
    expect(full.hiddenStates).toHaveLength(3);
    expect(maxAbsDiff(full.hiddenStates![2]!, full.output)).toBe(0);
    expect(maxAbsDiff(plain.output, full.output)).toBe(0);
    // Each hidden state is the previous one passed through the next block.
    const again = enc.blocks[1]!.forward(full.hiddenStates![0]!);
    expect(maxAbsDiff(again.output, full.hiddenStates![1]!)).toBeLessThan(1e-6);
    tf.dispose([plain.output, full.output, ...full.attentions!, ...full.hiddenStates!, again.output]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    enc.dispose();
  });

  it('is deterministic in eval mode; in training mode dropout changes outputs, reproducibly per Rng', () => {
    const enc = new ViTEncoder({ ...config, dropout: 0.1, attentionDropout: 0.1, dropPath: 0.1 }, { seed: 2 });
    const x = tf.randomNormal([4, 17, 16], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    const e1 = enc.forward(x).output;
    const e2 = enc.forward(x).output;
    enc.train();
    expect(enc.blocks.every((b) => b.training && b.attn.training && b.mlp.training)).toBe(true);
    const t1 = enc.forward(x, { rng: new Rng(3) }).output;
    const t2 = enc.forward(x, { rng: new Rng(3) }).output;
    const t3 = enc.forward(x, { rng: new Rng(4) }).output;
    expect(maxAbsDiff(e1, e2)).toBe(0);
    expect(maxAbsDiff(t1, t2)).toBe(0);
    expect(maxAbsDiff(t1, t3)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(t1, e1)).toBeGreaterThan(1e-3);
    enc.eval();
    const e3 = enc.forward(x).output;
    expect(maxAbsDiff(e1, e3)).toBe(0);
    tf.dispose([e1, e2, e3, t1, t2, t3]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    enc.dispose();
  });

  it('rejects tokens of the wrong width', () => {
    const enc = new ViTEncoder(config, { seed: 0 });
    const x = tf.zeros([1, 17, 8]);
    expect(() => enc.forward(x as tf.Tensor3D)).toThrow(ShapeError);
    x.dispose();
    enc.dispose();
  });
});

describe('Block', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('is pre-norm: x + attn(norm1(x)), then + mlp(norm2(.))', () => {
    const block = new Block({ dim: 16, numHeads: 4, mlpDim: 32 }, { seed: 3 });
    // Non-trivial norm parameters, so that a missing or misplaced norm shows.
    block.norm1.weight.assign(tf.randomUniform([16], 0.5, 1.5, 'float32', 1));
    block.norm2.bias.assign(tf.randomUniform([16], -0.5, 0.5, 'float32', 2));
    const x = tf.randomNormal([2, 5, 16], 0, 1, 'float32', 3) as tf.Tensor3D;
    const out = block.forward(x).output;
    const expected = tf.tidy(() => {
      const h = tf.add(x, block.attn.forward(block.norm1.forward(x) as tf.Tensor3D).output);
      return tf.add(h, block.mlp.forward(block.norm2.forward(h)));
    });
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
    tf.dispose([x, out, expected]);
    block.dispose();
  });

  it('drop path keeps or drops each sample`s whole residual branch, scaling kept ones by 1/(1-rate)', () => {
    const rate = 0.5;
    const block = new Block({ dim: 16, numHeads: 4, mlpDim: 32, dropPath: rate }, { seed: 4 });
    const n = 16;
    const x = tf.randomNormal([n, 5, 16], 0, 1, 'float32', 4) as tf.Tensor3D;
    block.train();
    const out = block.forward(x, { rng: new Rng(8) }).output;
    block.eval();
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const xi = tf.slice(x, [i, 0, 0], [1, -1, -1]) as tf.Tensor3D;
      const oi = tf.slice(out, [i, 0, 0], [1, -1, -1]);
      let match: string | undefined;
      for (const s1 of [0, 1 / (1 - rate)])
        for (const s2 of [0, 1 / (1 - rate)]) {
          const candidate = tf.tidy(() => {
            const h = tf.add(xi, tf.mul(block.attn.forward(block.norm1.forward(xi) as tf.Tensor3D).output, s1));
            return tf.add(h, tf.mul(block.mlp.forward(block.norm2.forward(h)), s2));
          });
          if (maxAbsDiff(candidate, oi) < 1e-5) match = `${s1},${s2}`;
          candidate.dispose();
        }
      expect(match, `sample ${i}`).toBeDefined();
      seen.add(match!);
      tf.dispose([xi, oi]);
    }
    // With 16 samples and rate 0.5, both kept and dropped branches occur.
    expect(seen.size).toBeGreaterThan(1);
    tf.dispose([x, out]);
    block.dispose();
  });
});
