import * as tf from '@tensorflow/tfjs-core';
import { dropout, matMul2d, type Rng } from '@vitkit/core';

/**
 * How QK^T and AV are multiplied.
 * - `batched`: one batched matMul over all (batch, head) pairs.
 * - `per-head`: one 2-D matMul per (batch, head) pair. On the wasm backend only
 *   2-D matMuls reach XNNPACK, which makes this several times faster there
 *   (ViT-B/16, batch 1) despite the extra ops.
 * - `auto`: `per-head` on wasm when each head's products are big enough to
 *   pay for their per-op overhead (see PER_HEAD_MIN_WORK), `batched` elsewhere.
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

/**
 * Multiply-adds of one head's QK^T (tokens^2 * headDim) above which `auto`
 * goes per-head on wasm. Each per-head product costs a few kernel launches
 * (~0.1 ms in all, more when training: the slices' gradients); tfjs's stock
 * batched loop runs about 1.6 GMAC/s, so per-head only pays from ~160K
 * multiply-adds per product. At ViT-B/16 sizes (197^2 * 64 = 2.5M) per-head
 * wins by far over the stock kernel; at Fashion-MNIST sizes (50 tokens, 16
 * per head: 40K, batch 128) training with per-head ran at 104 img/s against
 * 208 batched. With @vitkit/core's SIMD BatchMatMul (installed by
 * setupBackend('wasm')) the two strategies tie at ViT-Ti/16 sizes (forward,
 * batch 1: 99 vs 101 ms; batch 8: 762 vs 736 ms, against 239 and 1992 ms
 * batched on the stock kernel), so the threshold stays.
 */
export const PER_HEAD_MIN_WORK = 131_072;

/** The strategy `auto` stands for on the active backend, for heads of the given size when known. */
export function resolveStrategy(
  strategy: AttentionStrategy = 'auto',
  heads?: { tokens: number; headDim: number },
): Exclude<AttentionStrategy, 'auto'> {
  if (strategy !== 'auto') return strategy;
  if (tf.getBackend() !== 'wasm') return 'batched';
  if (heads && heads.tokens * heads.tokens * heads.headDim < PER_HEAD_MIN_WORK) return 'batched';
  return 'per-head';
}

/**
 * softmax(q kT) v for q [BH, T, Dh] (already scaled), kT [BH, Dh, T] (keys
 * pre-transposed so that no matMul needs transposeB), v [BH, T, Dh].
 * Called inside the caller's tidy.
 */
export function scaledDotProduct(q: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, options: ScaledDotProductOptions = {}): ScaledDotProductResult {
  const strategy = resolveStrategy(options.strategy, { tokens: q.shape[1], headDim: q.shape[2] });
  const drop = (p: tf.Tensor3D): tf.Tensor3D =>
    options.rng && options.dropRate && options.dropRate > 0 ? (dropout(p, options.dropRate, options.rng) as tf.Tensor3D) : p;
  if (strategy === 'batched') {
    const probs = tf.softmax(tf.matMul(q, kT)) as tf.Tensor3D;
    return { probs, context: tf.matMul(drop(probs), v) };
  }
  const qs = tf.unstack(q) as tf.Tensor2D[];
  const ks = tf.unstack(kT) as tf.Tensor2D[];
  const vs = tf.unstack(v) as tf.Tensor2D[];
  const probs = tf.softmax(tf.stack(qs.map((qi, i) => matMul2d(qi, ks[i]!)))) as tf.Tensor3D;
  const ps = tf.unstack(drop(probs)) as tf.Tensor2D[];
  const context = tf.stack(ps.map((pi, i) => matMul2d(pi, vs[i]!))) as tf.Tensor3D;
  return { probs, context };
}
