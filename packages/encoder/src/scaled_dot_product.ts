import * as tf from '@tensorflow/tfjs-core';
import { dropout, type Rng } from '@vitkit/core';

/**
 * How QK^T and AV are multiplied.
 * - `batched`: one batched matMul over all (batch, head) pairs.
 * - `per-head`: one 2-D matMul per (batch, head) pair. On the wasm backend only
 *   2-D matMuls reach XNNPACK, which makes this about 4x faster there (ViT-B/16,
 *   batch 1) despite the extra ops.
 * - `auto`: `per-head` on wasm, `batched` elsewhere.
 */
export type AttentionStrategy = 'auto' | 'batched' | 'per-head';

export interface ScaledDotProductOptions {
  strategy?: AttentionStrategy;
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

export function resolveStrategy(strategy: AttentionStrategy = 'auto'): Exclude<AttentionStrategy, 'auto'> {
  if (strategy !== 'auto') return strategy;
  return tf.getBackend() === 'wasm' ? 'per-head' : 'batched';
}

/**
 * softmax(q kT) v for q [BH, T, Dh] (already scaled), kT [BH, Dh, T] (keys
 * pre-transposed so that no matMul needs transposeB), v [BH, T, Dh].
 * Called inside the caller's tidy.
 */
export function scaledDotProduct(q: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, options: ScaledDotProductOptions = {}): ScaledDotProductResult {
  const strategy = resolveStrategy(options.strategy);
  const drop = (p: tf.Tensor3D): tf.Tensor3D =>
    options.rng && options.dropRate && options.dropRate > 0 ? (dropout(p, options.dropRate, options.rng) as tf.Tensor3D) : p;
  if (strategy === 'batched') {
    const probs = tf.softmax(tf.matMul(q, kT)) as tf.Tensor3D;
    return { probs, context: tf.matMul(drop(probs), v) };
  }
  const qs = tf.unstack(q) as tf.Tensor2D[];
  const ks = tf.unstack(kT) as tf.Tensor2D[];
  const vs = tf.unstack(v) as tf.Tensor2D[];
  const probs = tf.softmax(tf.stack(qs.map((qi, i) => tf.matMul(qi, ks[i]!)))) as tf.Tensor3D;
  const ps = tf.unstack(drop(probs)) as tf.Tensor2D[];
  const context = tf.stack(ps.map((pi, i) => tf.matMul(pi, vs[i]!))) as tf.Tensor3D;
  return { probs, context };
}
