import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  embedDataset,
  embedDatasetAsync,
  layerDecayScales,
  lossAndGradients,
  optimizedParameters,
  parseFreeze,
  registerGradients,
  splitModel,
  Trainer,
  TrainingConfigError,
  type FineTunableModel,
  type ImageDataset,
  type TrainerOptions,
} from '../src/index.js';
import { afterStepDiff, FIXTURES, fixture, microModel, npyTensor, timmTensors, TRAIN_STEP } from './helpers.js';

const LAYER_DECAY = join(FIXTURES, 'layer-decay');

interface GroupsFixture {
  layer_decay: number;
  cases: Record<string, { params: Record<string, { lr_scale: number }> }>;
}

/** A 4-block ViT on 8x8 images: blocks enough to freeze some. */
function smallVit(seed = 1, distilled = false): VisionTransformer {
  return new VisionTransformer(
    { imageSize: 8, patchSize: 4, embedDim: 16, depth: 4, numHeads: 2, mlpDim: 32, numClasses: 3, dropout: 0.1, dropPath: 0.1, ...(distilled ? { distilled: true } : {}) },
    { seed },
  );
}

/** `n` random 8x8 RGB images in 3 classes (uint8, as datasets hold them). */
function randomData(n: number, seed = 3): ImageDataset {
  const pixels = new Uint8Array(n * 8 * 8 * 3);
  let s = seed;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (s = (s * 1103515245 + 12345) % 2 ** 31) % 256;
  return { name: 'random', images: pixels, labels: Int32Array.from({ length: n }, (_, i) => i % 3), shape: [n, 8, 8, 3], numClasses: 3, normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } };
}

function snapshot(model: VisionTransformer): Map<string, Float32Array> {
  return new Map([...model.namedParameters()].map(([k, p]) => [k, p.variable.dataSync() as Float32Array]));
}

function changed(before: Map<string, Float32Array>, model: VisionTransformer): Set<string> {
  const out = new Set<string>();
  for (const [k, p] of model.namedParameters()) {
    const a = before.get(k)!;
    const b = p.variable.dataSync();
    if (a.some((v, i) => v !== b[i])) out.add(k);
  }
  return out;
}

describe('layer-wise lr decay vs timm param_groups_layer_decay', () => {
  it('gives every parameter of five ViT variants timm lr_scale (1e-12)', () => {
    const ref = JSON.parse(new TextDecoder().decode(fixture(join(LAYER_DECAY, 'groups.json')))) as GroupsFixture;
    expect(Object.keys(ref.cases).length).toBe(5);
    for (const [name, c] of Object.entries(ref.cases)) {
      const scales = layerDecayScales(Object.keys(c.params), ref.layer_decay);
      for (const [p, g] of Object.entries(c.params)) expect(Math.abs(scales.get(p)! - g.lr_scale), `${name} ${p}`).toBeLessThan(1e-12);
    }
  });

  it('rejects a decay outside (0, 1]', () => {
    expect(() => layerDecayScales(['head.weight'], 0)).toThrow(TrainingConfigError);
    expect(() => layerDecayScales(['head.weight'], 1.5)).toThrow(TrainingConfigError);
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`one AdamW step with layer decay 0.75 vs PyTorch + timm groups (${backend})`, () => {
    beforeAll(async () => {
      await setupBackend(backend);
      await registerGradients();
    });

    it('matches the loss and the updated parameters (1e-5)', async () => {
      const step = JSON.parse(new TextDecoder().decode(fixture(join(LAYER_DECAY, 'step.json')))) as { loss: number; lr: number; layer_decay: number; weight_decay: number };
      const model = await microModel();
      model.train();
      const x = npyTensor(join(TRAIN_STEP, 'input_nhwc.npy')) as tf.Tensor4D;
      const y = npyTensor(join(TRAIN_STEP, 'labels.npy')) as tf.Tensor1D;
      const params = model.namedParameters();
      const scales = layerDecayScales([...params.keys()], step.layer_decay);
      const { loss, grads } = lossAndGradients(model, [{ x, targets: y }], { labelSmoothing: 0.1 });
      expect(Math.abs(loss - step.loss)).toBeLessThan(1e-5);
      const opt = new AdamW(optimizedParameters(params, 'matrices', scales), { lr: step.lr, weightDecay: step.weight_decay });
      opt.step(grads);
      const after = timmTensors(join(LAYER_DECAY, 'after_step.safetensors'), 'timm');
      const expectedGrads = timmTensors(join(LAYER_DECAY, 'grads.safetensors'), 'timm');
      const state = model.stateDict();
      expect([...after.keys()].sort()).toEqual([...state.keys()].sort());
      const { worst } = afterStepDiff(state, after, expectedGrads, model.config.embedDim, (n) => step.lr * scales.get(n)!);
      expect(worst).toBeLessThan(1e-5);
      tf.dispose([x, y, ...Object.values(grads), ...after.values(), ...expectedGrads.values(), ...state.values()]);
      opt.dispose();
      model.dispose();
    });
  });
}

describe('freezing', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
    await registerGradients();
  });

  it('VisionTransformer is a FineTunableModel and parseFreeze reads the CLI forms', () => {
    const model: FineTunableModel = smallVit();
    expect(parseFreeze('backbone')).toBe('backbone');
    expect(parseFreeze('blocks:2')).toEqual({ blocks: 2 });
    expect(() => parseFreeze('blocks:')).toThrow(TrainingConfigError);
    expect(() => splitModel(model, { blocks: 5 })).toThrow(/out of range/);
    model.dispose();
  });

  it('trainable(frozen(x)) is the eval-mode forward pass (1e-5), distilled too', () => {
    for (const distilled of [false, true]) {
      const model = smallVit(2, distilled);
      const x = tf.randomNormal([3, 8, 8, 3], 0, 1, 'float32', 5);
      const expected = model.predict(x);
      for (const freeze of ['backbone', { blocks: 1 }, { blocks: 0 }] as const) {
        const split = splitModel(model, freeze);
        const logits = tf.tidy(() => {
          const h = split.frozen(x);
          return split.trainable(h).logits;
        });
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(logits, expected))).dataSync()[0]!)).toBeLessThan(1e-5);
        logits.dispose();
      }
      tf.dispose([x, expected]);
      model.dispose();
    }
  });

  it('does no backward work for frozen parts: far fewer kernels, gradients only for trainable parameters', async () => {
    const model = smallVit();
    model.train();
    const x = tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 0], 'int32');
    const kernels = async (fn: () => void): Promise<number> => (await tf.profile(fn)).kernels.length;
    const forward = await kernels(() => tf.dispose(model.eval().predict(x)));
    model.train();
    const run = (freeze?: 'backbone' | { blocks: number }) => () => {
      const r = lossAndGradients(model, [{ x, targets: y }], freeze ? { split: splitModel(model, freeze) } : {});
      expect(Object.keys(r.grads).sort()).toEqual(freeze ? [...splitModel(model, freeze).trainableNames].sort() : [...model.namedParameters().keys()].sort());
      tf.dispose(Object.values(r.grads));
    };
    const full = await kernels(run());
    const probe = await kernels(run('backbone'));
    const last = await kernels(run({ blocks: 1 }));
    // (cpu, this model: forward 300, full 1597, probe 350, blocks:1 663 kernels.)
    // A full step costs a train-mode forward and the backward of everything: well over a forward again.
    expect(full - forward).toBeGreaterThan(forward);
    // A probe is one eval forward plus the loss and one Linear's forward and backward: under a tenth of that.
    expect(probe - forward).toBeLessThan((full - forward) / 10);
    // Training one block of four: under half of it.
    expect(last - forward).toBeLessThan((full - forward) / 2);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('a Trainer leaves frozen weights bit-identical and changes the trainable ones', () => {
    const data = randomData(24);
    for (const [freeze, trainsBlock0] of [['backbone', false], [{ blocks: 1 }, false], ['none', true]] as const) {
      const model = smallVit();
      const before = snapshot(model);
      const trainer = new Trainer(model, data, { batchSize: 8, epochs: 1, lr: 1e-2, freeze });
      while (!trainer.done) trainer.trainStep();
      const moved = changed(before, model);
      const names = freeze === 'none' ? [...model.namedParameters().keys()] : splitModel(model, freeze).trainableNames;
      expect(moved).toEqual(new Set(names.filter((n) => n !== 'pos_embed' || freeze === 'none')));
      expect(moved.has('blocks.0.attn.qkv.weight')).toBe(trainsBlock0);
      trainer.dispose();
      model.dispose();
    }
  });

  it('head warm-up trains only the head, then switches to the freeze mode with a fresh optimizer; resume picks the phase', () => {
    const data = randomData(24);
    const model = smallVit();
    const options: TrainerOptions = { batchSize: 8, steps: 4, lr: 1e-2, freeze: { blocks: 1 }, headWarmup: 2 };
    const trainer = new Trainer(model, data, options);
    const before = snapshot(model);
    trainer.trainStep();
    trainer.trainStep();
    expect(changed(before, model)).toEqual(new Set(['head.weight', 'head.bias']));
    expect(trainer.optimizer.parameterNames).toEqual(['head.weight', 'head.bias']);
    const state = trainer.getState();
    trainer.trainStep();
    expect(changed(before, model).has('blocks.3.mlp.fc1.weight')).toBe(true);
    expect(changed(before, model).has('blocks.2.mlp.fc1.weight')).toBe(false);
    expect(trainer.optimizer.stepCount).toBe(1);
    // A trainer restored at step 2 is in the main phase too: the optimizer state of that phase fits.
    const other = new Trainer(smallVit(), data, options);
    other.setState(state);
    expect(other.optimizer.parameterNames).toEqual(trainer.optimizer.parameterNames);
    const saved = trainer.getOptimizerState();
    other.setOptimizerState(saved);
    tf.dispose([...saved.expAvg.values(), ...saved.expAvgSq.values()]);
    for (const t of [trainer, other]) {
      t.dispose();
      t.model.dispose();
    }
  });

  it('refuses cached embeddings with augmentation or another freeze mode, and freezing with workers', () => {
    const data = randomData(16);
    const model = smallVit();
    const embeddings = embedDataset(model, data);
    expect(() => new Trainer(model, data, { batchSize: 8, freeze: { blocks: 1 }, embeddings })).toThrow(/cached embeddings/);
    expect(() => new Trainer(model, data, { batchSize: 8, freeze: 'backbone', embeddings, mixup: 0.2 })).toThrow(/mixup/);
    const workers = { count: 1, compute: () => Promise.reject(new Error('unused')) };
    expect(() => new Trainer(model, data, { batchSize: 8, freeze: 'backbone', workers })).toThrow(/workers/);
    expect(() => new Trainer(model, data, { batchSize: 8, freeze: 'backbone', headWarmup: 2 })).toThrow(TrainingConfigError);
    model.dispose();
  });

  it('embedDatasetAsync reads the same rows as embedDataset (await data()), in batches, without leaking tensors', async () => {
    const data = randomData(21);
    const model = smallVit(9);
    const start = tf.memory().numTensors;
    const sync = embedDataset(model, data, { batchSize: 8 });
    const seen: number[] = [];
    const cache = await embedDatasetAsync(model, data, { batchSize: 8, onProgress: (done) => seen.push(done) });
    expect(tf.memory().numTensors).toBe(start);
    expect(seen).toEqual([8, 16, 21]);
    expect([cache.count, ...cache.rowShape]).toEqual([sync.count, ...sync.rowShape]);
    expect(cache.data.length).toBe(21 * sync.rowShape[0]!);
    expect(new Set(cache.data).size).toBeGreaterThan(100);
    expect(cache.data).toEqual(sync.data);
    await expect(embedDatasetAsync(model, data, { batchSize: 0 })).rejects.toThrow(TrainingConfigError);
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });

  it('a probe on cached embeddings takes the same steps as a probe on the full model (losses to 1e-4), without leaking tensors', () => {
    const data = randomData(40);
    const options: TrainerOptions = { batchSize: 8, epochs: 3, lr: 5e-2, warmup: 2, freeze: 'backbone', seed: 4, labelSmoothing: 0.1 };
    const losses = (cached: boolean): number[] => {
      const model = smallVit(9);
      const start = tf.memory().numTensors;
      const trainer = new Trainer(model, data, cached ? { ...options, embeddings: embedDataset(model, data, { batchSize: 16 }) } : options);
      const out: number[] = [];
      while (!trainer.done) out.push(trainer.trainStep().loss);
      trainer.dispose();
      expect(tf.memory().numTensors).toBe(start);
      model.dispose();
      return out;
    };
    const full = losses(false);
    const cached = losses(true);
    expect(full.length).toBe(15);
    expect(new Set(full.map((l) => l.toFixed(4))).size).toBeGreaterThan(10);
    for (let i = 0; i < full.length; i++) expect(Math.abs(full[i]! - cached[i]!), `step ${i + 1}`).toBeLessThan(1e-4);
  });
});
