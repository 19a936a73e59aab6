import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, evaluateAsync, modelSafetensors, modelSafetensorsAsync, registerGradients, Trainer, type ImageDataset } from '../src/index.js';
import { smallSubsetSplits } from './helpers.js';

// Browsers read with `await data()` (webgpu's synchronous reads are unreliable in workers):
// the asynchronous paths must give exactly the numbers of the synchronous ones.
let data: ImageDataset;
let test: ImageDataset;
beforeAll(async () => {
  await setupBackend('cpu');
  await registerGradients();
  ({ train: data, test } = await smallSubsetSplits(64, 40));
});

function tinyModel(): VisionTransformer {
  return new VisionTransformer({ imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 16, depth: 2, numHeads: 2, mlpDim: 32, numClasses: 10, dropout: 0.1 }, { seed: 3 });
}

describe('asynchronous reads', () => {
  it('trainStepAsync (no workers) takes the same steps as trainStep, with clipping and accumulation', async () => {
    const options = { batchSize: 8, gradAccum: 2, steps: 4, lr: 1e-3, clipGrad: 0.5, seed: 5 };
    const [a, b] = [tinyModel(), tinyModel()];
    const [ta, tb] = [new Trainer(a, data, options), new Trainer(b, data, options)];
    const before = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) {
      const sync = ta.trainStep();
      const async = await tb.trainStepAsync();
      expect(async).toEqual(sync);
    }
    expect(tf.memory().numTensors).toBe(before);
    const [ea, eb] = [evaluate(a, test, { batchSize: 16 }), await evaluateAsync(b, test, { batchSize: 16 })];
    expect(eb).toEqual(ea);
    expect(ea.count).toBe(40);
    expect(await modelSafetensorsAsync(b)).toEqual(modelSafetensors(a));
    for (const t of [ta, tb]) t.dispose();
    a.dispose();
    b.dispose();
  });
});
