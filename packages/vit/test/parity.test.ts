// Forward parity with the reference ViT (torchvision run on timm-named weights)
// on both the cpu and wasm backends, to 1e-4 absolute.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { VisionTransformer, disposeViTOutput, type ViTOutput } from '../src/index.js';
import { loadNpy, loadTimmState, maxAbsDiff, microConfig } from './helpers/fixtures.js';

const TOL = 1e-4;

describe.each(['cpu', 'wasm'] as const)('vit-micro parity on %s', (backend) => {
  let model: VisionTransformer;
  let input: tf.Tensor;
  let out: ViTOutput;

  beforeAll(async () => {
    await setupBackend(backend);
    model = new VisionTransformer(microConfig(), { seed: 1 });
    const state = loadTimmState();
    model.loadStateDict(state);
    tf.dispose([...state.values()]);
    input = loadNpy('input_nhwc.npy');
    out = model.forward(input, { returnAttention: true, returnHiddenStates: true });
  });

  afterAll(() => {
    disposeViTOutput(out);
    input.dispose();
    model.dispose();
  });

  const cases: [string, (o: ViTOutput) => tf.Tensor | undefined][] = [
    ['expected_embeddings.npy', (o) => o.embeddings],
    ['expected_block0.npy', (o) => o.hiddenStates?.[0]],
    ['expected_block1.npy', (o) => o.hiddenStates?.[1]],
    ['expected_attention_block0.npy', (o) => o.attentions?.[0]],
    ['expected_final_norm.npy', (o) => o.finalNorm],
    ['expected_logits.npy', (o) => o.logits],
  ];

  it.each(cases)('matches %s', (file, pick) => {
    const expected = loadNpy(file);
    const actual = pick(out);
    expect(actual, `${file} was not returned`).toBeDefined();
    expect(actual!.shape).toEqual(expected.shape);
    expect(maxAbsDiff(actual!, expected)).toBeLessThan(TOL);
    expected.dispose();
  });

  it('predict() gives the reference logits, for a batch and for single images', () => {
    const expected = loadNpy('expected_logits.npy');
    const logits = model.predict(input);
    expect(maxAbsDiff(logits, expected)).toBeLessThan(TOL);
    const first = tf.tidy(() => model.predict(tf.squeeze(tf.slice(input, [0, 0, 0, 0], [1, -1, -1, -1]), [0])));
    const firstExpected = tf.slice(expected, [0, 0], [1, -1]);
    expect(first.shape).toEqual([1, 10]);
    expect(maxAbsDiff(first, firstExpected)).toBeLessThan(TOL);
    tf.dispose([expected, logits, first, firstExpected]);
  });
});
