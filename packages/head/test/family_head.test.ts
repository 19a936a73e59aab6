// The ViT-family head parts: attention pooling, no pooling, no final norm, fc_norm from
// the config, the distillation head.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, setupBackend } from '@vitkit/core';
import { ViTHead, type HeadConfig } from '../src/index.js';

const base: HeadConfig = { embedDim: 8, numClasses: 3, layerNormEps: 1e-6, pooling: 'token', classToken: true, numRegisterTokens: 0 };
const names = (h: ViTHead) => [...h.namedParameters().keys()];

describe('ViTHead, ViT family', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('registers parts in timm state-dict order: norm, attn_pool, fc_norm, head, head_dist', () => {
    const map = new ViTHead({ ...base, pooling: 'map', classToken: false, numHeads: 2, mlpDim: 16, fcNorm: true }, { seed: 0 });
    expect(names(map)).toEqual([
      'attn_pool.latent', 'attn_pool.q.weight', 'attn_pool.q.bias', 'attn_pool.kv.weight', 'attn_pool.kv.bias', 'attn_pool.proj.weight', 'attn_pool.proj.bias',
      'attn_pool.norm.weight', 'attn_pool.norm.bias', 'attn_pool.mlp.fc1.weight', 'attn_pool.mlp.fc1.bias', 'attn_pool.mlp.fc2.weight', 'attn_pool.mlp.fc2.bias',
      'fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias',
    ]);
    const distilled = new ViTHead({ ...base, distilled: true }, { seed: 0 });
    expect(names(distilled)).toEqual(['norm.weight', 'norm.bias', 'head.weight', 'head.bias', 'head_dist.weight', 'head_dist.bias']);
    expect(names(new ViTHead({ ...base, finalNorm: false }))).toEqual(['head.weight', 'head.bias']);
    expect(names(new ViTHead({ ...base, pooling: 'mean' }))).toEqual(['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias']);
    expect(names(new ViTHead({ ...base, pooling: 'mean', fcNorm: false }))).toEqual(['norm.weight', 'norm.bias', 'head.weight', 'head.bias']);
    expect(() => new ViTHead({ ...base, distilled: true, fcNorm: true })).toThrow(ConfigError);
    expect(() => new ViTHead({ ...base, pooling: 'map' })).toThrow(/numHeads and mlpDim/);
  });

  it('distilled: eval logits are the mean of head(cls) and head_dist(dist); training also returns each', () => {
    const head = new ViTHead({ ...base, distilled: true }, { seed: 1 });
    const x = tf.randomNormal([2, 6, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const out = head.forward(x);
    const tok = (i: number) => tf.reshape(tf.slice(out.normed, [0, i, 0], [2, 1, 8]), [2, 8]);
    const want = tf.tidy(() => tf.div(tf.add(head.head!.forward(tok(0)), head.headDist!.forward(tok(1))), 2));
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(out.logits, want))).dataSync()[0]!)).toBeLessThan(1e-6);
    expect(out.distLogits).toBeUndefined();
    head.train();
    const t = head.forward(x);
    expect(t.clsLogits?.shape).toEqual([2, 3]);
    expect(t.distLogits?.shape).toEqual([2, 3]);
    tf.dispose([x, want, out.logits, out.features, out.normed, t.logits, t.features, t.normed, t.clsLogits!, t.distLogits!]);
    head.dispose();
  });

  it('pooling none: features are all tokens; without a final norm, tokens pass unchanged', () => {
    const head = new ViTHead({ ...base, numClasses: 0, pooling: 'none', finalNorm: false });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 2) as tf.Tensor3D;
    const out = head.forward(x);
    expect(out.features.shape).toEqual([2, 5, 8]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(out.features, x))).dataSync()[0]!)).toBe(0);
    tf.dispose([x, out.logits, out.features, out.normed]);
  });
});
