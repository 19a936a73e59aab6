// Memory over repeated forward passes of a dynamic-size model (DINOv2-style, registers,
// LayerScale) at two input sizes: the resampled position embeddings are cached once per
// size and freed with the model, so the tensor count stays flat.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { VisionTransformer } from '../src/index.js';

const CONFIG = {
  imageSize: 28, patchSize: 7, embedDim: 32, depth: 2, numHeads: 2, numClasses: 0, numRegisterTokens: 4,
  noEmbedClass: true, layerScaleInit: 1e-5, dynamicImageSize: true,
} as const;

describe.each(['cpu', 'wasm'] as const)('dynamic image size without leaks on %s', (backend) => {
  it('repeated predictions at two sizes keep the tensor count flat; dispose frees the cache', async () => {
    await setupBackend(backend);
    const start = tf.memory().numTensors;
    const model = new VisionTransformer(CONFIG, { seed: 4 });
    const withModel = tf.memory().numTensors;
    const inputs = [tf.randomUniform([2, 35, 42, 3], -1, 1, 'float32', 1), tf.randomUniform([1, 21, 14, 3], -1, 1, 'float32', 2)];
    const predict = (x: tf.Tensor): void => {
      const out = model.predict(x);
      out.dataSync();
      out.dispose();
    };
    for (const x of inputs) predict(x); // warm-up: one cached position embedding per new size
    const warm = tf.memory();
    expect(warm.numTensors).toBe(withModel + inputs.length + 2);
    for (let i = 0; i < 100; i++) predict(inputs[i % 2]!);
    const after = tf.memory();
    expect(after.numTensors).toBe(warm.numTensors);
    expect(after.numBytes).toBe(warm.numBytes);
    // Loading weights replaces pos_embed: the stale resamplings are dropped, not kept beside new ones.
    const state = model.stateDict();
    model.loadStateDict(state);
    tf.dispose([...state.values()]);
    for (let i = 0; i < 10; i++) predict(inputs[i % 2]!);
    expect(tf.memory().numTensors).toBe(warm.numTensors);
    model.dispose();
    tf.dispose(inputs);
    expect(tf.memory().numTensors).toBe(start);
  });
});
