// Long-run memory checks: a model used over and over (inference, or an epoch
// of training steps) must not accumulate tensors, tensor bytes, backend data
// buffers or (wasm) heap. Each check warms up first, since backends allocate
// caches on first use, then requires the counts to stay exactly where they
// were.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, setupBackend } from '@vitkit/core';
import { VisionTransformer } from '../src/index.js';
import { microConfig } from './helpers/fixtures.js';

interface Snapshot {
  numTensors: number;
  numBytes: number;
  numDataBuffers: number;
  /** wasm heap size in bytes (0 on other backends). */
  heap: number;
}

function snapshot(): Snapshot {
  const m = tf.memory();
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return { numTensors: m.numTensors, numBytes: m.numBytes, numDataBuffers: m.numDataBuffers, heap: wasm?.HEAPU8?.length ?? 0 };
}

const PREDICTIONS = 1000;
const TRAINING_STEPS = 50;

describe.each(['cpu', 'wasm'] as const)('no leaks over long runs on %s', (backend) => {
  let model: VisionTransformer;
  let images: tf.Tensor4D;
  let labels: tf.Tensor2D;

  beforeAll(async () => {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await setupBackend(backend);
    model = new VisionTransformer({ ...microConfig(), dropout: 0.1, attentionDropout: 0.1, dropPath: 0.1 }, { seed: 11 });
    const [h, w] = model.config.imageSize;
    images = tf.randomUniform([4, h, w, model.config.inChannels], -1, 1, 'float32', 3) as tf.Tensor4D;
    labels = tf.oneHot(tf.tensor1d([1, 4, 7, 2], 'int32'), model.config.numClasses) as tf.Tensor2D;
  });

  afterAll(() => {
    tf.dispose([images, labels]);
    model.dispose();
  });

  it(`${PREDICTIONS} predictions keep memory flat`, () => {
    const count = PREDICTIONS;
    model.eval();
    const predict = (i: number): void => {
      // Mostly single images, now and then the batch, as an app serving requests would.
      const x = i % 10 === 0 ? images : tf.slice(images, [i % 4, 0, 0, 0], [1, -1, -1, -1]);
      const logits = model.predict(x);
      logits.dataSync();
      logits.dispose();
      if (x !== images) x.dispose();
    };
    for (let i = 0; i < 20; i++) predict(i);
    const start = snapshot();
    const checkpoints: Snapshot[] = [];
    for (let i = 0; i < count; i++) {
      predict(i);
      if ((i + 1) % (count / 4) === 0) checkpoints.push(snapshot());
    }
    for (const s of checkpoints) {
      expect(s.numTensors).toBe(start.numTensors);
      expect(s.numBytes).toBe(start.numBytes);
      expect(s.numDataBuffers).toBe(start.numDataBuffers);
    }
    // The heap may settle during the first quarter; after that it must not grow.
    expect(checkpoints.at(-1)!.heap).toBe(checkpoints[0]!.heap);
  });

  it(`an epoch of ${TRAINING_STEPS} training steps keeps memory flat and lowers the loss`, () => {
    model.train();
    const params = [...model.variables().values()];
    const rng = new Rng(5);
    const lr = 0.05;
    // A plain SGD step on cross entropy: the training package is not needed to see leaks.
    const step = (): number => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.losses.softmaxCrossEntropy(labels, model.forward(images, { rng }).logits) as tf.Scalar), params);
      tf.tidy(() => {
        for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name]!, lr)));
      });
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    };
    const saved = params.map((p) => p.clone());
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) losses.push(step());
    const start = snapshot();
    const checkpoints: Snapshot[] = [];
    for (let i = 0; i < TRAINING_STEPS; i++) {
      losses.push(step());
      if ((i + 1) % 10 === 0) checkpoints.push(snapshot());
    }
    for (const s of checkpoints) {
      expect(s.numTensors).toBe(start.numTensors);
      expect(s.numBytes).toBe(start.numBytes);
      expect(s.numDataBuffers).toBe(start.numDataBuffers);
    }
    expect(checkpoints.at(-1)!.heap).toBe(checkpoints[0]!.heap);
    // Four images, fifty steps: the model should fit them (the steps are real training steps).
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) * 0.7);
    params.forEach((p, i) => p.assign(saved[i]!));
    tf.dispose(saved);
    model.eval();
  });
});
