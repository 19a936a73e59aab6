// Architecture variants the micro fixture does not cover, checked against
// their timm definitions recomputed from the model's own parameters.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core ships kernels' gradients separately; the full tfjs bundle (and @vitkit/training) registers them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, layerNorm, setupBackend } from '@vitkit/core';
import { VisionTransformer, disposeViTOutput } from '../src/index.js';
import { maxAbsDiff, microConfig } from './helpers/fixtures.js';

const input = () => tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 42);

describe('VisionTransformer variants', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('mean pooling: no `norm`, `fc_norm` applied after averaging the patch tokens only', () => {
    // microConfig() is resolved (fcNorm false, derived for token pooling): say fcNorm as timm's 'avg' default does.
    const model = new VisionTransformer({ ...microConfig(), pooling: 'mean', fcNorm: true, classToken: true, numRegisterTokens: 1 }, { seed: 1 });
    const names = [...model.namedParameters().keys()];
    expect(names).toContain('fc_norm.weight');
    expect(names).not.toContain('norm.weight');
    const x = input();
    const out = model.forward(x, { returnHiddenStates: true });
    const last = out.hiddenStates![1]!;
    const v = model.variables();
    const expected = tf.tidy(() =>
      layerNorm(tf.mean(tf.slice(last, [0, 2, 0], [-1, -1, -1]), 1), v.get('fc_norm.weight') as tf.Tensor1D, v.get('fc_norm.bias') as tf.Tensor1D, 1e-6),
    );
    expect(maxAbsDiff(out.features, expected)).toBeLessThan(1e-6);
    expect(maxAbsDiff(out.finalNorm!, last)).toBe(0);
    tf.dispose([x, expected]);
    disposeViTOutput(out);
    model.dispose();
  });

  it('register tokens follow the class token and share the position embedding', () => {
    const model = new VisionTransformer({ ...microConfig(), numRegisterTokens: 4 }, { seed: 2 });
    const v = model.variables();
    expect(v.get('reg_token')!.shape).toEqual([1, 4, 32]);
    expect(v.get('pos_embed')!.shape).toEqual([1, 1 + 4 + 16, 32]);
    const x = input();
    const out = model.forward(x, { returnHiddenStates: true });
    expect(out.embeddings!.shape).toEqual([2, 21, 32]);
    const expectedPrefix = tf.tidy(() =>
      tf.add(tf.concat([v.get('cls_token')!, v.get('reg_token')!], 1), tf.slice(v.get('pos_embed')!, [0, 0, 0], [1, 5, 32])),
    );
    const prefix = tf.slice(out.embeddings!, [1, 0, 0], [1, 5, 32]);
    expect(maxAbsDiff(prefix, expectedPrefix)).toBeLessThan(1e-7);
    tf.dispose([x, expectedPrefix, prefix]);
    disposeViTOutput(out);
    model.dispose();
  });

  it('noEmbedClass: position embedding covers only the patches; prefix tokens enter unchanged', () => {
    const model = new VisionTransformer({ ...microConfig(), numRegisterTokens: 2, noEmbedClass: true }, { seed: 3 });
    const v = model.variables();
    expect(v.get('pos_embed')!.shape).toEqual([1, 16, 32]);
    const x = input();
    const out = model.forward(x, { returnHiddenStates: true });
    const patches = model.inputLayer.patchEmbed.forward(x);
    const expected = tf.tidy(() =>
      tf.concat([tf.tile(tf.concat([v.get('cls_token')!, v.get('reg_token')!], 1), [2, 1, 1]), tf.add(patches, v.get('pos_embed')!)], 1),
    );
    expect(maxAbsDiff(out.embeddings!, expected)).toBeLessThan(1e-6);
    tf.dispose([x, patches, expected]);
    disposeViTOutput(out);
    model.dispose();
  });

  it('without a class token: mean pooling over all tokens', () => {
    const model = new VisionTransformer({ ...microConfig(), classToken: false, pooling: 'mean' }, { seed: 4 });
    expect(model.variables().has('cls_token')).toBe(false);
    expect(model.numTokens).toBe(16);
    const x = input();
    const logits = model.predict(x);
    expect(logits.shape).toEqual([2, 10]);
    tf.dispose([x, logits]);
    model.dispose();
  });

  it('numClasses 0: no `head.*`, logits are the pooled features', () => {
    const model = new VisionTransformer({ ...microConfig(), numClasses: 0 }, { seed: 5 });
    expect([...model.namedParameters().keys()].some((n) => n.startsWith('head.'))).toBe(false);
    const x = input();
    const out = model.forward(x);
    expect(out.logits.shape).toEqual([2, 32]);
    expect(out.logits).toBe(out.features);
    tf.dispose(x);
    disposeViTOutput(out);
    model.dispose();
  });

  it('training mode: dropout and drop-path change outputs, reproducibly for a given Rng; eval is deterministic', () => {
    const model = new VisionTransformer({ ...microConfig(), dropout: 0.2, attentionDropout: 0.2, dropPath: 0.2 }, { seed: 6 });
    const x = input();
    const evalA = model.predict(x);
    const evalB = model.predict(x);
    expect(maxAbsDiff(evalA, evalB)).toBe(0);
    model.train();
    const a = model.forward(x, { rng: new Rng(9) });
    const b = model.forward(x, { rng: new Rng(9) });
    const c = model.forward(x, { rng: new Rng(10) });
    expect(maxAbsDiff(a.logits, b.logits)).toBe(0);
    expect(maxAbsDiff(a.logits, c.logits)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(a.logits, evalA)).toBeGreaterThan(1e-3);
    model.eval();
    [a, b, c].forEach(disposeViTOutput);
    tf.dispose([x, evalA, evalB]);
    model.dispose();
  });
});

describe.each(['cpu', 'wasm'] as const)('gradients on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it('flow to every parameter, in training mode with dropout, without leaking', () => {
    const model = new VisionTransformer({ ...microConfig(), numRegisterTokens: 1, dropout: 0.1, dropPath: 0.1 }, { seed: 7 }).train();
    const x = input();
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(x, { rng: new Rng(1) }).logits)) as tf.Scalar);
    const vars = model.variables();
    expect(Object.keys(grads).length).toBe(vars.size);
    for (const [name, variable] of vars) {
      const g = grads[variable.name];
      expect(g, name).toBeDefined();
      expect(g!.shape, name).toEqual(variable.shape);
      const stats = tf.tidy(() => tf.stack([tf.sum(tf.abs(g!)), tf.max(tf.abs(g!))]));
      const [sum, max] = stats.dataSync();
      stats.dispose();
      expect(Number.isFinite(sum), name).toBe(true);
      // Every parameter influences the loss, so no gradient is identically zero.
      expect(max, name).toBeGreaterThan(0);
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});
