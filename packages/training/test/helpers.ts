import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseNpy } from '@vitkit/core';
import { expect } from 'vitest';

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
