// Every ViT family trains: the micro models of fixtures/reference/vit-family (timm weights,
// a fresh 3-class classifier) take AdamW steps with the Trainer on a fixed batch, the loss
// goes down, and the family-specific parameters (LayerScale gammas, the attention pool,
// the distillation head) get gradients.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, setupBackend } from '@vitkit/core';
import { loadViT, type VisionTransformer } from '@vitkit/vit';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossAndGradients, registerGradients, trainingLoss, Trainer, type ImageDataset } from '../src/index.js';
import { FIXTURES, fixture } from './helpers.js';

const FAMILY = join(FIXTURES, 'vit-family');
const CLASSES = 3;
const IMAGES = 6;

/** Parameters that only a family has, which must take part in training. */
const FAMILY_PARAMS: Record<string, RegExp[]> = {
  'deit-distilled': [/^dist_token$/, /^head_dist\.weight$/, /^head_dist\.bias$/],
  'dinov2-reg': [/^reg_token$/, /^blocks\.\d+\.ls1\.gamma$/, /^blocks\.\d+\.ls2\.gamma$/],
  clip: [/^norm_pre\.weight$/, /^norm_pre\.bias$/],
  siglip: [/^attn_pool\.(latent|q\.weight|kv\.weight|proj\.weight|norm\.weight|mlp\.fc1\.weight|mlp\.fc2\.weight)$/],
};

async function familyModel(name: string): Promise<VisionTransformer> {
  fixture(join(FAMILY, name, 'timm.safetensors'));
  const config = JSON.parse(readFileSync(join(FAMILY, name, 'config.json'), 'utf8')) as Record<string, unknown>;
  return loadViT(join(FAMILY, name, 'timm.safetensors'), { config, headMode: 'replace', numClasses: CLASSES, seed: 3, cache: false });
}

function randomDataset(model: VisionTransformer): ImageDataset {
  const [h, w] = model.config.imageSize;
  const c = model.config.inChannels;
  const rng = new Rng(17);
  return {
    name: 'random',
    images: Uint8Array.from({ length: IMAGES * h * w * c }, () => Math.floor(rng.uniform(0, 256))),
    shape: [IMAGES, h, w, c],
    labels: Int32Array.from({ length: IMAGES }, (_, i) => i % CLASSES),
    numClasses: CLASSES,
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  };
}

describe('ViT family training', () => {
  beforeAll(async () => {
    await registerGradients();
    await setupBackend('cpu');
  });

  it.each(Object.keys(FAMILY_PARAMS))('%s: 5 AdamW steps lower the loss; family parameters get gradients', async (name) => {
    const model = await familyModel(name);
    expect(model.config.numClasses).toBe(CLASSES);
    const data = randomDataset(model);
    // One fixed batch (the whole set, unshuffled): the loss must go down on it.
    const trainer = new Trainer(model, data, { batchSize: IMAGES, steps: 5, lr: 1e-3, shuffle: false, schedule: 'constant', seed: 1 });
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) losses.push(trainer.trainStep().loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.95);

    model.train();
    const x = tf.randomUniform([2, ...model.config.imageSize, model.config.inChannels], -1, 1, 'float32', 5) as tf.Tensor4D;
    const y = tf.tensor1d([0, 2], 'int32');
    const { grads } = lossAndGradients(model, [{ x, targets: y }]);
    for (const pattern of FAMILY_PARAMS[name]!) {
      const names = [...model.namedParameters().keys()].filter((k) => pattern.test(k));
      expect(names.length, String(pattern)).toBeGreaterThan(0);
      for (const k of names) {
        expect(grads[k], `${k} has no gradient`).toBeDefined();
        expect(tf.tidy(() => tf.max(tf.abs(grads[k]!)).dataSync()[0]!), `${k} gradient is zero`).toBeGreaterThan(0);
      }
    }
    expect(tf.tidy(() => tf.max(tf.abs(grads['pos_embed']!)).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([x, y, ...Object.values(grads)]);
    trainer.dispose();
    model.dispose();
  });

  it('dynamic image size: pos_embed gets gradients through the resampling, in train and eval mode (no cached copy)', async () => {
    const model = await familyModel('dinov2-reg');
    const x = tf.randomUniform([2, 35, 42, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1], 'int32');
    for (const training of [false, true, false]) {
      model.train(training);
      // An eval-mode forward first fills the position cache: gradients must still reach pos_embed.
      if (!training) tf.dispose(model.predict(x));
      const { grads } = lossAndGradients(model, [{ x, targets: y }]);
      expect(tf.tidy(() => tf.max(tf.abs(grads['pos_embed']!)).dataSync()[0]!), `training ${training}`).toBeGreaterThan(0);
      tf.dispose(Object.values(grads));
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('distilled models train both heads: the loss is the mean of their cross entropies', async () => {
    const model = await familyModel('deit-distilled');
    const x = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 6);
    const y = tf.tensor1d([1, 2], 'int32');
    model.train();
    const out = model.forward(x);
    expect(out.clsLogits?.shape).toEqual([2, CLASSES]);
    expect(out.distLogits?.shape).toEqual([2, CLASSES]);
    const ce = (l: tf.Tensor): number => tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, CLASSES), tf.logSoftmax(l)), 1))).dataSync()[0]!);
    const loss = trainingLoss(out, y);
    expect(loss.dataSync()[0]!).toBeCloseTo((ce(out.clsLogits!) + ce(out.distLogits!)) / 2, 5);
    model.eval();
    const evalOut = model.forward(x);
    expect(evalOut.clsLogits).toBeUndefined();
    tf.dispose([x, y, loss, out.logits, out.features, out.clsLogits!, out.distLogits!, evalOut.logits, evalOut.features]);
    model.dispose();
  });
});
