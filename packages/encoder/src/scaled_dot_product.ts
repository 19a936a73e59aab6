import * as tf from '@tensorflow/tfjs-core';
import { dropout, type Rng } from '@vitkit/core';

export interface ScaledDotProductOptions {
  /** Dropout rate on the probabilities; applied only when `rng` is given. */
  dropRate?: number;
  rng?: Rng;
}

export interface ScaledDotProductResult {
  /** softmax(QK^T) weighted values, [BH, T, Dh]. */
  context: tf.Tensor3D;
  /** Attention probabilities before dropout, [BH, T, T]. */
  probs: tf.Tensor3D;
}

/**
 * softmax(q kT) v for q [BH, T, Dh] (already scaled), kT [BH, Dh, T] (keys
 * pre-transposed so that no matMul needs transposeB), v [BH, T, Dh], as two
 * batched products (wasm measurements: docs/experiments/wasm-matmul.md).
 * Called inside the caller's tidy.
 */
export function scaledDotProduct(q: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, options: ScaledDotProductOptions = {}): ScaledDotProductResult {
  const probs = tf.softmax(tf.matMul(q, kT)) as tf.Tensor3D;
  const dropped = options.rng && options.dropRate && options.dropRate > 0 ? (dropout(probs, options.dropRate, options.rng) as tf.Tensor3D) : probs;
  return { probs, context: tf.matMul(dropped, v) };
}
