import * as tf from '@tensorflow/tfjs-core';
import { dropout, matMul2d, unstackRows, type Rng } from '@vitkit/core';

/** How the fused qkv projection's columns are split: q | k | v, each `heads` blocks of `headDim`. */
export interface HeadLayout {
  batch: number;
  tokens: number;
  heads: number;
  headDim: number;
  /** Applied to q k^T before the softmax (timm: headDim^-0.5). */
  scale: number;
}

export interface PerHeadAttentionOptions {
  /** Dropout rate on the probabilities; applied only when `rng` is given. */
  dropRate?: number;
  rng?: Rng;
  /** Also return the probabilities [B*heads, T, T] (before dropout). */
  returnProbs?: boolean;
}

export interface PerHeadAttentionResult {
  /** The heads' outputs merged back to [B*T, heads*headDim], ready for the output projection. */
  context: tf.Tensor2D;
  probs?: tf.Tensor3D;
}

/**
 * Multi-head attention from the qkv projection [B*T, 3D] straight to the
 * merged context [B*T, D], as one 2-D product per (image, head) for QK^T and
 * one for AV. The wasm backend runs only 2-D, non-transposed products on
 * XNNPACK (on the backend's thread pool), so this is its fast path; batched
 * or transposed products fall to a scalar loop there.
 *
 * Layout work is three 3-D transposes (the wasm backend has fast kernels up
 * to rank 4; a rank-5 transpose takes its generic path, 100x slower):
 * qkv [B*T, 3H, Dh] -> [3H, B*T, Dh] makes q, k, v and every (head, image)
 * block contiguous, in head-major order; the keys go to [H*B, Dh, T] so that
 * QK^T needs no transposed operand, with the scale folded in (one multiply of
 * D*T values rather than one per head); unstackRows cuts the blocks out at
 * the cost of what they hold. The outputs are concatenated row-wise
 * ([H, B*T, Dh], contiguous) and put back in token order with one transpose.
 * Called inside the caller's tidy.
 */
export function perHeadAttention(qkv: tf.Tensor2D, layout: HeadLayout, options: PerHeadAttentionOptions = {}): PerHeadAttentionResult {
  const { batch: b, tokens: t, heads: h, headDim: dh, scale } = layout;
  const pairs = b * h;
  // [B*T, 3H, Dh] -> [3H, B*T, Dh] = [3, H, B, T, Dh]: pair i = head * B + image.
  const parts = tf.reshape(tf.transpose(tf.reshape(qkv, [b * t, 3 * h, dh]), [1, 0, 2]), [3, pairs * t * dh]);
  const [qAll, kAll, vAll] = unstackRows(parts) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const keysT = tf.mul(tf.transpose(tf.reshape(kAll, [pairs, t, dh]), [0, 2, 1]), scale);
  const qs = unstackRows(tf.reshape(qAll, [pairs, t, dh])) as tf.Tensor2D[];
  const ks = unstackRows(keysT) as tf.Tensor2D[];
  const vs = unstackRows(tf.reshape(vAll, [pairs, t, dh])) as tf.Tensor2D[];
  const drop = options.rng && options.dropRate && options.dropRate > 0 ? { rate: options.dropRate, rng: options.rng } : undefined;
  const contexts: tf.Tensor2D[] = [];
  const probs: tf.Tensor2D[] = [];
  for (let i = 0; i < pairs; i++) {
    const p = tf.softmax(matMul2d(qs[i]!, ks[i]!)) as tf.Tensor2D;
    if (options.returnProbs) probs.push(p);
    contexts.push(matMul2d(drop ? (dropout(p, drop.rate, drop.rng) as tf.Tensor2D) : p, vs[i]!));
  }
  // [H*B*T, Dh] = [H, B*T, Dh] -> [B*T, H, Dh] -> [B*T, D]
  const stacked = contexts.length === 1 ? contexts[0]! : tf.concat(contexts, 0);
  const context = tf.reshape(tf.transpose(tf.reshape(stacked, [h, b * t, dh]), [1, 0, 2]), [b * t, h * dh]) as tf.Tensor2D;
  if (!options.returnProbs) return { context };
  // Head-major pairs back to [B*H, T, T] (image-major), as the batched path returns them.
  const byImage = tf.transpose(tf.reshape(tf.stack(probs), [h, b, t * t]), [1, 0, 2]);
  return { context, probs: tf.reshape(byImage, [pairs, t, t]) as tf.Tensor3D };
}
