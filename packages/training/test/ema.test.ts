// The moving average of the weights: the recurrence itself, the swap that
// evaluates and saves it, its place in Trainer steps, checkpoints and runs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { VisionTransformer } from '@vitkit/vit';
import { parseSafetensors } from '@vitkit/weights';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  disposeRunCheckpoint,
  emaDecayAt,
  evaluate,
  modelWeights,
  readMetrics,
  readRunCheckpoint,
  restoreTrainer,
  runTraining,
  saveRunCheckpoint,
  Trainer,
  TrainingConfigError,
  WeightEma,
  type ImageDataset,
  type TrainerOptions,
} from '../src/index.js';
import { maxArrayDiff, smallSubsetSplits } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'vitkit-ema-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let data: ImageDataset;
let val: ImageDataset;
beforeAll(async () => {
  ({ train: data, test: val } = await smallSubsetSplits(128, 40));
});

const tinyModel = (seed = 1): VisionTransformer =>
  new VisionTransformer({ imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 16, depth: 1, numHeads: 2, mlpDim: 32, numClasses: 10, dropout: 0.1 }, { seed });

/** Every parameter's values, by name, copied out of the model (the library's modelWeights, as a Map). */
function weightsOf(model: VisionTransformer): Map<string, Float32Array> {
  return new Map(Object.entries(modelWeights(model)));
}

function arraysOf(state: Map<string, tf.Tensor>): Map<string, Float32Array> {
  const out = new Map([...state].map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
  tf.dispose([...state.values()]);
  return out;
}

/** Largest difference over all parameters of two weight maps. */
function maxMapDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...a.keys()]).toEqual([...b.keys()]);
  return Math.max(...[...a].map(([k, x]) => maxArrayDiff(x, b.get(k)!)));
}

const OPTIONS: TrainerOptions = { batchSize: 16, epochs: 2, lr: 3e-3, warmup: 2, labelSmoothing: 0.1, clipGrad: 1, seed: 2, emaDecay: 0.9 };

describe('WeightEma', () => {
  it('ramps the decay up as tf.train.ExponentialMovingAverage does with num_updates', () => {
    expect(emaDecayAt(0.999, 1)).toBeCloseTo(2 / 11, 12);
    expect(emaDecayAt(0.999, 90)).toBeCloseTo(91 / 100, 12);
    expect(emaDecayAt(0.9, 100)).toBe(0.9); // 101/110 > 0.9
    expect(emaDecayAt(0, 5)).toBe(0);
  });

  it('follows ema <- d ema + (1 - d) p step by step, computed here in float64', () => {
    const p = tf.variable(tf.tensor1d([1, -2, 3]), true, 'ema-test-p');
    const ema = new WeightEma(new Map([['p', p]]), 0.8);
    const expected = [1, -2, 3];
    const values = [
      [0, 0, 0],
      [2, 2, 2],
      [-1, 5, 0.5],
      [4, -4, 1],
    ];
    values.forEach((v, i) => {
      const t = i + 1;
      p.assign(tf.tensor1d(v));
      ema.update(t);
      const d = Math.min(0.8, (1 + t) / (10 + t));
      for (let j = 0; j < 3; j++) expected[j] = d * expected[j]! + (1 - d) * v[j]!;
    });
    const got = arraysOf(ema.getState()).get('p')!;
    expect(maxArrayDiff(got, Float32Array.from(expected))).toBeLessThan(1e-6);
    ema.dispose();
    p.dispose();
  });

  it('swaps the averages in and gives the training weights back, also when the callback throws', () => {
    const model = tinyModel();
    const before = weightsOf(model);
    const ema = new WeightEma(model.variables(), 0.5);
    for (const v of model.variables().values()) v.assign(tf.mul(v, 3));
    ema.update(1); // d = min(0.5, 2/11): averages = 2/11 w + 9/11 (3 w)
    const trained = weightsOf(model);
    const count = tf.memory().numTensors;
    const inside = ema.swapIn(() => weightsOf(model));
    for (const [k, w] of before) {
      const expected = w.map((x) => (2 / 11) * x + (9 / 11) * 3 * x);
      expect(maxArrayDiff(inside.get(k)!, expected), k).toBeLessThan(1e-5);
    }
    expect(maxMapDiff(weightsOf(model), trained)).toBe(0);
    expect(() => ema.swapIn(() => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(maxMapDiff(weightsOf(model), trained)).toBe(0);
    expect(tf.memory().numTensors).toBe(count);
    ema.dispose();
    model.dispose();
  });

  it('saves and restores its state, and refuses state that does not fit', () => {
    const model = tinyModel();
    const a = new WeightEma(model.variables(), 0.99);
    for (const v of model.variables().values()) v.assign(tf.add(v, 1));
    a.update(3);
    const b = new WeightEma(model.variables(), 0.99);
    const state = a.getState();
    b.setState(state);
    expect(maxMapDiff(arraysOf(b.getState()), arraysOf(a.getState()))).toBe(0);
    const first = [...state.keys()][0]!;
    const missing = new Map(state);
    missing.delete(first);
    expect(() => b.setState(missing)).toThrow(/no average for/);
    const reshaped = new Map(state);
    reshaped.set(first, tf.zeros([3]));
    expect(() => b.setState(reshaped)).toThrow(/has shape \[3\]/);
    tf.dispose([...state.values(), reshaped.get(first)!]);
    expect(() => new WeightEma(model.variables(), 1)).toThrow(TrainingConfigError);
    expect(() => new WeightEma(model.variables(), -0.1)).toThrow(/EMA decay must be in \[0, 1\)/);
    for (const x of [a, b]) x.dispose();
    model.dispose();
  });
});

describe('Trainer with emaDecay', () => {
  it('updates the average after every optimizer step, with no tensors left behind', () => {
    const model = tinyModel();
    const trainer = new Trainer(model, data, OPTIONS);
    const expected = weightsOf(model);
    trainer.trainStep();
    const count = tf.memory().numTensors;
    for (let t = 1; t <= 6; t++) {
      if (t > 1) trainer.trainStep();
      const w = weightsOf(model);
      const d = Math.min(0.9, (1 + t) / (10 + t));
      for (const [k, e] of expected) for (let i = 0; i < e.length; i++) e[i] = d * e[i]! + (1 - d) * w.get(k)![i]!;
    }
    expect(tf.memory().numTensors).toBe(count);
    expect(maxMapDiff(arraysOf(trainer.ema!.getState()), expected)).toBeLessThan(1e-6);
    expect(() => new Trainer(model, data, { ...OPTIONS, emaDecay: 1 })).toThrow(/EMA decay/);
    const without = new Trainer(model, data, { ...OPTIONS, emaDecay: 0 });
    expect(without.ema).toBeUndefined();
    without.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('continues the average exactly from a checkpoint', () => {
    const straightModel = tinyModel();
    const straight = new Trainer(straightModel, data, OPTIONS);
    for (let i = 0; i < 10; i++) straight.trainStep();

    const firstModel = tinyModel();
    const first = new Trainer(firstModel, data, OPTIONS);
    for (let i = 0; i < 4; i++) first.trainStep();
    const dir = join(tmp, 'resume');
    saveRunCheckpoint(dir, first);
    const published = parseSafetensors(readFileSync(join(dir, 'model_ema.safetensors')));
    expect(published.metadata).toMatchObject({ step: '4', ema_decay: '0.9' });
    first.dispose();
    firstModel.dispose();

    const secondModel = tinyModel(7); // other initial weights (and so another starting average): all must come from the checkpoint
    const second = new Trainer(secondModel, data, OPTIONS);
    const ckpt = readRunCheckpoint(dir);
    expect(ckpt.emaWeights?.size).toBe(secondModel.variables().size);
    restoreTrainer(second, ckpt);
    disposeRunCheckpoint(ckpt);
    for (let i = 0; i < 6; i++) second.trainStep();
    expect(maxMapDiff(weightsOf(secondModel), weightsOf(straightModel))).toBeLessThan(1e-5);
    expect(maxMapDiff(arraysOf(second.ema!.getState()), arraysOf(straight.ema!.getState()))).toBeLessThan(1e-5);

    // A checkpoint without an average cannot start one in the middle of a run.
    const plainModel = tinyModel();
    const plain = new Trainer(plainModel, data, { ...OPTIONS, emaDecay: 0 });
    plain.trainStep();
    saveRunCheckpoint(join(tmp, 'plain'), plain);
    expect(existsSync(join(tmp, 'plain', 'model_ema.safetensors'))).toBe(false);
    const plainCkpt = readRunCheckpoint(join(tmp, 'plain'));
    const withEma = new Trainer(tinyModel(), data, OPTIONS);
    expect(() => restoreTrainer(withEma, plainCkpt)).toThrow(CheckpointError);
    expect(() => restoreTrainer(withEma, plainCkpt)).toThrow(/has no model_ema.safetensors/);
    disposeRunCheckpoint(plainCkpt);
    for (const t of [straight, second, plain, withEma]) t.dispose();
    for (const m of [straightModel, secondModel, plainModel, withEma.model]) m.dispose();
  });
});

describe('runTraining with emaDecay', () => {
  it('evaluates the average beside the weights and publishes it as model_ema.safetensors', async () => {
    const model = tinyModel();
    const trainer = new Trainer(model, data, { ...OPTIONS, emaDecay: 0.8 });
    const out = join(tmp, 'run');
    const r = await runTraining(trainer, { outDir: out, validation: val, test: val, logEvery: 4 });
    const m = readMetrics(join(out, 'metrics.jsonl'));
    const epochs = m.filter((x) => x.type === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const e of epochs) expect(e.type === 'epoch' && e.ema_accuracy! >= 0 && e.ema_accuracy! <= 1 && e.ema_val_loss! > 0).toBe(true);
    expect(m.at(-1)).toMatchObject({ type: 'test', accuracy: r.test!.accuracy, ema_accuracy: r.emaTest!.accuracy, ema_loss: r.emaTest!.loss });
    expect(r.lastEmaValidation!.accuracy).toBe(r.emaTest!.accuracy); // val and test are the same images here

    // The published file holds the average: loaded into a fresh model it scores what the run reported,
    // and it differs from the last weights.
    const file = parseSafetensors(readFileSync(join(out, 'model_ema.safetensors')));
    const loaded = tinyModel(3);
    const state = new Map([...file.tensors].map(([k, t]) => [k, tf.tensor(t.data, t.shape, 'float32')]));
    loaded.loadStateDict(state);
    tf.dispose([...state.values()]);
    const again = evaluate(loaded, val);
    expect(again.accuracy).toBe(r.emaTest!.accuracy);
    expect(Math.abs(again.loss - r.emaTest!.loss)).toBeLessThan(1e-5);
    expect(maxMapDiff(weightsOf(loaded), weightsOf(model))).toBeGreaterThan(1e-4);
    expect(readFileSync(join(out, 'training_curves.svg'), 'utf8')).toMatch(/test accuracy \(EMA\)/);
    trainer.dispose();
    model.dispose();
    loaded.dispose();
  });
});
