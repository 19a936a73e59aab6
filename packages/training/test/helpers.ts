import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseNpy, setupBackend } from '@vitkit/core';
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
