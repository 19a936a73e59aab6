import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseNpy, setupBackend } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { configInputFromJson, convertToTimm, loadCheckpoint, parseSafetensors } from '@vitkit/weights';
import { expect } from 'vitest';
import { loadDataset, registerGradients, subset, type ImageDataset } from '../src/index.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURES = join(REPO, 'fixtures', 'reference');
export const TRAIN_STEP = join(FIXTURES, 'vit-micro-train-step');
export const MICRO = join(FIXTURES, 'vit-micro');
export const SUBSET = join(REPO, 'data', 'fashion-mnist-subset');

/** Reads a fixture file, failing (not skipping) when it is missing. */
export function fixture(path: string): Uint8Array {
  expect(existsSync(path), `fixture ${path} is missing`).toBe(true);
  return readFileSync(path);
}

export function npyTensor(path: string): tf.Tensor {
  const a = parseNpy(fixture(path));
  return tf.tensor(a.data, a.shape, a.dtype === 'uint8' ? 'int32' : a.dtype);
}

/** Largest absolute difference between two same-shape tensors. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(tf.cast(a, 'float32'), tf.cast(b, 'float32')))).dataSync()[0]!);
}

/** Largest absolute difference between two same-length arrays (gradients or weights read out of tensors). */
export function maxArrayDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/**
 * The wasm backend with gradients, and the first `trainCount` training and
 * `testCount` test images of the bundled Fashion-MNIST subset: the small
 * splits the trainer and run tests train on.
 */
export async function smallSubsetSplits(trainCount: number, testCount: number): Promise<{ train: ImageDataset; test: ImageDataset }> {
  await setupBackend('wasm');
  await registerGradients();
  const ds = await loadDataset(SUBSET);
  const first = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  return { train: subset(ds.train, first(trainCount)), test: subset(ds.test!, first(testCount)) };
}

/**
 * Largest difference between parameters after one AdamW step and PyTorch's, by name, skipping (and
 * counting) elements whose reference gradient is below 1e-8. Those are exactly the key biases
 * (qkv.bias[D:2D]), whose true gradient is 0 (softmax ignores a constant added to every logit of a
 * row): both frameworks get rounding noise of ~1e-10 there, which Adam's first step turns into
 * lr * noise / (|noise| + eps), any value up to lr. For them this checks that bound (`lrOf(name)`)
 * and that they are the key biases.
 */
export function afterStepDiff(
  ours: ReadonlyMap<string, tf.Tensor>,
  theirs: ReadonlyMap<string, tf.Tensor>,
  grads: ReadonlyMap<string, tf.Tensor>,
  dim: number,
  lrOf: (name: string) => number,
): { worst: number; noisy: number } {
  let worst = 0;
  let noisy = 0;
  for (const [name, t] of ours) {
    const a = t.dataSync();
    const b = theirs.get(name)!.dataSync();
    const g = grads.get(name)!.dataSync();
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      if (Math.abs(g[i]!) >= 1e-8) {
        worst = Math.max(worst, d);
      } else {
        noisy += 1;
        expect(name.endsWith('attn.qkv.bias') && i >= dim && i < 2 * dim, `${name}[${i}] has a ~0 gradient`).toBe(true);
        expect(d).toBeLessThanOrEqual(2 * lrOf(name) + 1e-7);
      }
    }
  }
  return { worst, noisy };
}

/** The fixture's tensors (torchvision names) renamed to timm names, as tf tensors. */
export function timmTensors(file: string, convention: 'torchvision' | 'timm' = 'torchvision'): Map<string, tf.Tensor> {
  const parsed = parseSafetensors(fixture(file));
  const { tensors } = convertToTimm(parsed.tensors, convention);
  return new Map([...tensors].map(([k, t]) => [k, tf.tensor(t.data, t.shape, 'float32')]));
}

/** vit-micro with its weights, dropout off. */
export async function microModel(): Promise<VisionTransformer> {
  fixture(join(MICRO, 'torchvision.safetensors'));
  const config = configInputFromJson(JSON.parse(readFileSync(join(MICRO, 'hf-config.json'), 'utf8')));
  const loaded = await loadCheckpoint(join(MICRO, 'torchvision.safetensors'), { config });
  const model = new VisionTransformer({ ...loaded.config, dropout: 0, attentionDropout: 0, dropPath: 0 }, { seed: 0 });
  model.loadStateDict(loaded.state);
  tf.dispose([...loaded.state.values()]);
  return model;
}

