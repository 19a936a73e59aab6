import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, setupBackend } from '@vitkit/core';
import { VisionTransformer, disposeViTOutput } from '../src/index.js';
import { loadNpy, microConfig } from './helpers/fixtures.js';

describe.each(['cpu', 'wasm'] as const)('no tensor leaks on %s', (backend) => {
  let model: VisionTransformer;
  let input: tf.Tensor;

  beforeAll(async () => {
    await setupBackend(backend);
    model = new VisionTransformer({ ...microConfig(), dropout: 0.1, attentionDropout: 0.1, dropPath: 0.1 }, { seed: 5 });
    input = loadNpy('input_nhwc.npy');
  });

  afterAll(() => {
    input.dispose();
    model.dispose();
  });

  const variants = [
    { name: 'plain', options: {} },
    { name: 'returnAttention', options: { returnAttention: true } },
    { name: 'returnHiddenStates + returnAttention', options: { returnAttention: true, returnHiddenStates: true } },
  ];

  it.each(variants)('forward ($name), eval and train, leaves no tensors behind', ({ options }) => {
    for (const training of [false, true]) {
      model.train(training);
      disposeViTOutput(model.forward(input, { ...options, rng: new Rng(1) })); // warm-up (backends may cache)
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) disposeViTOutput(model.forward(input, { ...options, rng: new Rng(i) }));
      expect(tf.memory().numTensors).toBe(before);
    }
    model.eval();
  });

  it('predict leaves only its result', () => {
    const before = tf.memory().numTensors;
    const logits = model.predict(input);
    expect(tf.memory().numTensors).toBe(before + 1);
    logits.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a rejected input leaves no tensors behind', () => {
    const bad = tf.zeros([2, 3, 32, 32]);
    const before = tf.memory().numTensors;
    expect(() => model.forward(bad)).toThrow(/NCHW/);
    expect(tf.memory().numTensors).toBe(before);
    bad.dispose();
  });
});
