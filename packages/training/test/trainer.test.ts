import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { VisionTransformer } from '@vitkit/vit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultAugmentation,
  disposeRunCheckpoint,
  evaluate,
  measureTrainingThroughput,
  readRunCheckpoint,
  restoreTrainer,
  saveRunCheckpoint,
  subset,
  Trainer,
  TrainingConfigError,
  type ImageDataset,
  type TrainerOptions,
  zoomCenter,
} from '../src/index.js';
import { smallSubsetSplits } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'vitkit-trainer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let data: ImageDataset;
let test: ImageDataset;
beforeAll(async () => {
  ({ train: data, test: test } = await smallSubsetSplits(256, 100));
});

/** A tiny ViT for 28x28 grayscale, with dropout and drop-path on so the Rng state matters. */
function tinyModel(seed = 1): VisionTransformer {
  return new VisionTransformer(
    { imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 16, depth: 2, numHeads: 2, mlpDim: 32, numClasses: 10, dropout: 0.1, dropPath: 0.1 },
    { seed },
  );
}

/** tinyModel with its head scaled up: a fresh model's near-uniform outputs hardly differ between views. */
function sharpModel(seed: number): VisionTransformer {
  const model = tinyModel(seed);
  const state = model.stateDict();
  const sharp = new Map([...state].map(([k, t]) => [k, k === 'head.weight' ? tf.mul(t, 30) : t] as const));
  model.loadStateDict(sharp);
  tf.dispose([...state.values(), ...sharp.values()]);
  return model;
}

/** The test split's 100 images, normalized as evaluate's batches are. */
function testImages(): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(test.images, (v) => (v / 255 - 0.286) / 0.353), [100, 28, 28, 1]);
}

/** Top-1 accuracy and mean cross entropy of class probabilities [N, classes], computed by hand. */
function scoreProbabilities(probs: tf.Tensor, labels: ArrayLike<number>): { accuracy: number; loss: number } {
  const rows = probs.arraySync() as number[][];
  let correct = 0;
  let loss = 0;
  rows.forEach((row, i) => {
    const label = labels[i]!;
    if (row.indexOf(Math.max(...row)) === label) correct += 1;
    loss -= Math.log(row[label]!);
  });
  return { accuracy: correct / rows.length, loss: loss / rows.length };
}

const OPTIONS: TrainerOptions = {
  batchSize: 16,
  gradAccum: 2,
  epochs: 2,
  lr: 3e-3,
  warmup: 3,
  labelSmoothing: 0.1,
  clipGrad: 1,
  mixup: 0.4,
  cutmix: 1,
  seed: 5,
};

describe('Trainer', () => {
  it('keeps the tensor count flat over 20 steps (an epoch and a bit)', () => {
    const model = tinyModel();
    const trainer = new Trainer(model, data, { ...OPTIONS, augment: defaultAugmentation(), epochs: 3 });
    trainer.trainStep();
    trainer.trainStep();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) trainer.trainStep();
    expect(tf.memory().numTensors).toBe(before);
    expect(trainer.epoch).toBe(2);
    trainer.dispose();
    model.dispose();
  });

  it('learns: loss falls and test accuracy beats chance after a few epochs', () => {
    const model = new VisionTransformer({ imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 32, depth: 2, numHeads: 2, mlpDim: 64, numClasses: 10 }, { seed: 2 });
    const trainer = new Trainer(model, data, { batchSize: 32, epochs: 10, lr: 5e-3, warmup: 4, seed: 1 });
    const losses: number[] = [];
    while (!trainer.done) losses.push(trainer.trainStep().loss);
    expect(losses.length).toBe(80);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-8))).toBeLessThan(mean(losses.slice(0, 8)) - 0.4);
    expect(evaluate(model, test).accuracy).toBeGreaterThan(0.3);
    trainer.dispose();
    model.dispose();
  });

  it('continues bit-for-bit from a checkpoint (weights, moments, data order, augmentation, mixup, dropout)', () => {
    const opts = { ...OPTIONS, augment: defaultAugmentation() };
    const straightModel = tinyModel();
    const straight = new Trainer(straightModel, data, opts);
    const expected = Array.from({ length: 12 }, () => straight.trainStep().loss);

    const firstModel = tinyModel();
    const first = new Trainer(firstModel, data, opts);
    const got = Array.from({ length: 5 }, () => first.trainStep().loss);
    const dir = join(tmp, 'resume');
    saveRunCheckpoint(dir, first, { note: 'test' });
    first.dispose();
    firstModel.dispose();

    const secondModel = tinyModel(99); // different init: everything must come from the checkpoint
    const second = new Trainer(secondModel, data, opts);
    const ckpt = readRunCheckpoint(dir);
    expect(ckpt.stateFile.extra).toEqual({ note: 'test' });
    restoreTrainer(second, ckpt);
    disposeRunCheckpoint(ckpt);
    while (got.length < 12) got.push(second.trainStep().loss);
    got.forEach((l, i) => expect(Math.abs(l - expected[i]!)).toBeLessThan(1e-5));
    for (const t of [straight, second]) t.dispose();
    straightModel.dispose();
    secondModel.dispose();
  });

  it('refuses to resume on other data or batch settings', () => {
    const model = tinyModel();
    const t = new Trainer(model, data, OPTIONS);
    t.trainStep();
    const dir = join(tmp, 'other');
    saveRunCheckpoint(dir, t);
    const ckpt = readRunCheckpoint(dir);
    const other = new Trainer(model, subset(data, Array.from({ length: 128 }, (_, i) => i)), OPTIONS);
    expect(() => restoreTrainer(other, ckpt)).toThrow(/not on this data/);
    const otherBatch = new Trainer(model, data, { ...OPTIONS, batchSize: 8 });
    expect(() => restoreTrainer(otherBatch, ckpt)).toThrow(/steps per epoch/);
    disposeRunCheckpoint(ckpt);
    for (const x of [t, other, otherBatch]) x.dispose();
    model.dispose();
  });

  it('rejects impossible settings with TrainingConfigErrors', () => {
    const model = tinyModel();
    expect(() => new Trainer(model, data, { batchSize: 1000 })).toThrow(/fewer than one step/);
    expect(() => new Trainer(model, data, { batchSize: 0 })).toThrow(TrainingConfigError);
    expect(() => new Trainer(model, data, { batchSize: 8, labelSmoothing: 1 })).toThrow(TrainingConfigError);
    expect(() => new Trainer(model, { ...data, numClasses: 12 }, { batchSize: 8 })).toThrow(/12 classes/);
    const t = new Trainer(model, data, { batchSize: 128, steps: 1 });
    t.trainStep();
    expect(() => t.trainStep()).toThrow(/complete/);
    t.dispose();
    model.dispose();
  });
});

describe('evaluate and measureTrainingThroughput', () => {
  it('computes top-1 accuracy as argmax over logits', () => {
    const model = tinyModel(3);
    const r = evaluate(model, test, { batchSize: 32 });
    const x = testImages();
    const pred = tf.tidy(() => tf.argMax(model.predict(x), 1).dataSync());
    const correct = Array.from(pred).filter((p, i) => p === test.labels[i]).length;
    expect(r.count).toBe(100);
    expect(r.accuracy).toBeCloseTo(correct / 100, 10);
    x.dispose();
    model.dispose();
  });

  it('with flip test-time augmentation, averages the probabilities of each image and its mirror image', () => {
    const model = sharpModel(5);
    const tensors = tf.memory().numTensors;
    const r = evaluate(model, test, { batchSize: 32, tta: 'flip' });
    expect(tf.memory().numTensors).toBe(tensors);
    // The same by hand, on all 100 images at once.
    const x = testImages();
    const probs = tf.tidy(() => tf.div(tf.add(tf.softmax(model.predict(x)), tf.softmax(model.predict(tf.reverse(x, 2)))), 2));
    const byHand = scoreProbabilities(probs, test.labels);
    expect(r.accuracy).toBeCloseTo(byHand.accuracy, 10);
    expect(Math.abs(r.loss - byHand.loss)).toBeLessThan(1e-5);
    // The two views differ on these images, so the averaged loss differs from the plain one.
    expect(Math.abs(r.loss - evaluate(model, test, { batchSize: 32 }).loss)).toBeGreaterThan(1e-3);
    tf.dispose([x, probs]);
    model.dispose();
  });

  it('gives the plain result on mirror-symmetric images and rejects unknown augmentations', () => {
    const model = tinyModel(6);
    // Each image averaged with its mirror image is its own mirror image.
    const [n, h, w] = test.shape;
    const images = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < h; y++) {
        for (let c = 0; c < w; c++) {
          const at = (col: number): number => test.images[(i * h + y) * w + col]!;
          images[(i * h + y) * w + c] = ((at(c) + at(w - 1 - c)) / 2 / 255 - 0.286) / 0.353;
        }
      }
    }
    const symmetric: ImageDataset = { ...test, images };
    const plain = evaluate(model, symmetric);
    const flipped = evaluate(model, symmetric, { tta: 'flip' });
    expect(flipped.accuracy).toBe(plain.accuracy);
    expect(Math.abs(flipped.loss - plain.loss)).toBeLessThan(1e-5);
    expect(() => evaluate(model, test, { tta: 'rotate' as never })).toThrow(TrainingConfigError);
    model.dispose();
  });

  it('zoomCenter samples the centre crop bilinearly (checked on a linear ramp, where bilinear sampling is exact)', () => {
    const [h, w] = [6, 9];
    // Pixel (y, x) holds x + 100 y: the zoomed view at (i, j) must hold the ramp at the sampled point.
    const ramp = tf.tensor4d(Float32Array.from({ length: 2 * h * w }, (_, k) => (k % w) + 100 * Math.floor((k % (h * w)) / w)), [2, h, w, 1]);
    const f = 0.7;
    const lo = (1 - f) / 2;
    const out = zoomCenter(ramp, f);
    expect(out.shape).toEqual([2, h, w, 1]);
    const got = out.dataSync();
    let worst = 0;
    for (let n = 0; n < 2; n++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const expected = (w - 1) * (lo + (f * j) / (w - 1)) + 100 * (h - 1) * (lo + (f * i) / (h - 1));
          worst = Math.max(worst, Math.abs(got[(n * h + i) * w + j]! - expected));
        }
      }
    }
    expect(worst).toBeLessThan(1e-3);
    // The whole image (fraction 1) is the image itself.
    const same = zoomCenter(ramp, 1);
    expect(Math.max(...Array.from(tf.abs(tf.sub(same, ramp)).dataSync()))).toBeLessThan(1e-4);
    tf.dispose([ramp, out, same]);
  });

  it('with flip-zoom test-time augmentation, averages the probabilities of four views', () => {
    const model = sharpModel(7);
    const tensors = tf.memory().numTensors;
    const r = evaluate(model, test, { batchSize: 32, tta: 'flip-zoom', zoom: 0.8 });
    expect(tf.memory().numTensors).toBe(tensors);
    // By hand: the image, its mirror image, its zoomed centre and that mirrored, all 100 images at once.
    const x = testImages();
    const probs = tf.tidy(() => {
      const z = zoomCenter(x, 0.8);
      const views = [x, tf.reverse(x, 2), z, tf.reverse(z, 2)];
      return tf.div(tf.addN(views.map((v) => tf.softmax(model.predict(v as tf.Tensor4D)))), 4);
    });
    const byHand = scoreProbabilities(probs, test.labels);
    expect(r.accuracy).toBeCloseTo(byHand.accuracy, 10);
    expect(Math.abs(r.loss - byHand.loss)).toBeLessThan(1e-5);
    // The zoomed views change the result; with zoom 1 they repeat the plain views, which is flip.
    const flip = evaluate(model, test, { batchSize: 32, tta: 'flip' });
    expect(Math.abs(r.loss - flip.loss)).toBeGreaterThan(1e-3);
    const unzoomed = evaluate(model, test, { batchSize: 32, tta: 'flip-zoom', zoom: 1 });
    expect(unzoomed.accuracy).toBe(flip.accuracy);
    expect(Math.abs(unzoomed.loss - flip.loss)).toBeLessThan(1e-5);
    expect(() => evaluate(model, test, { tta: 'flip-zoom', zoom: 0 })).toThrow(TrainingConfigError);
    expect(() => evaluate(model, test, { tta: 'flip-zoom', zoom: 1.2 })).toThrow(TrainingConfigError);
    tf.dispose([x, probs]);
    model.dispose();
  });

  it('reports images per second and leaves the weights as they were', () => {
    const model = tinyModel(4);
    const before = model.stateDict();
    const tensors = tf.memory().numTensors;
    const r = measureTrainingThroughput(model, { batch: 8, steps: 2, warmupSteps: 1 });
    expect(r.imagesPerSecond).toBeGreaterThan(0);
    expect(r.msPerStep).toBeCloseTo((8 * 1000) / r.imagesPerSecond, 6);
    expect(tf.memory().numTensors).toBe(tensors);
    const after = model.stateDict();
    for (const [k, t] of before) expect(Array.from(after.get(k)!.dataSync())).toEqual(Array.from(t.dataSync()));
    tf.dispose([...before.values(), ...after.values()]);
    model.dispose();
  });
});
