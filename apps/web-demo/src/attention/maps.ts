import * as tf from '@tensorflow/tfjs-core';

export interface AttentionMapOptions {
  /** Tokens before the patches (class token and registers). */
  prefixTokens: number;
  /** True when the model has a class token: maps show what it attends to. */
  classToken: boolean;
  /** Which image of the batch. */
  index?: number;
}

export interface AttentionMapTensors {
  /** [depth, heads, patches]: per layer and head, how much attention each patch gets. */
  perHead: tf.Tensor3D;
  /** [patches]: attention rollout from the output token(s) back to the input patches. */
  rollout: tf.Tensor1D;
}

/**
 * Reduces each block's attention probabilities [B, heads, T, T] to maps over
 * the patch grid, for one image.
 *
 * Per head: the class token's attention row over the patch tokens; without a
 * class token (mean pooling) the mean over patch queries, i.e. how much each
 * patch is looked at.
 *
 * Rollout (Abnar & Zuidema, "Quantifying Attention Flow in Transformers",
 * 2020): each block's head-averaged attention plus the identity for the
 * residual connection, rows renormalized, multiplied from the first block up.
 * Row i of the product says how much output token i draws on each input token.
 */
export function attentionMaps(attentions: readonly tf.Tensor4D[], options: AttentionMapOptions): AttentionMapTensors {
  if (attentions.length === 0) throw new Error('attentionMaps needs at least one block');
  const index = options.index ?? 0;
  const prefix = options.prefixTokens;
  return tf.tidy(() => {
    const perImage = attentions.map((a) => tf.squeeze(tf.slice(a, [index, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D);
    const tokens = perImage[0]!.shape[1];
    const patches = tokens - prefix;
    const fromOutput = (m: tf.Tensor3D): tf.Tensor2D =>
      // m: [heads, T, T] -> [heads, patches]
      options.classToken
        ? (tf.squeeze(tf.slice(m, [0, 0, prefix], [-1, 1, patches]), [1]) as tf.Tensor2D)
        : (tf.mean(tf.slice(m, [0, prefix, prefix], [-1, patches, patches]), 1) as tf.Tensor2D);
    const perHead = tf.stack(perImage.map(fromOutput)) as tf.Tensor3D;

    const eye = tf.eye(tokens);
    let rolled = eye as tf.Tensor2D;
    for (const m of perImage) {
      const withResidual = tf.add(tf.mul(tf.mean(m, 0), 0.5), tf.mul(eye, 0.5));
      const normalized = tf.div(withResidual, tf.sum(withResidual, 1, true)) as tf.Tensor2D;
      rolled = tf.matMul(normalized, rolled);
    }
    const rollout = tf.squeeze(fromOutput(tf.expandDims(rolled, 0) as tf.Tensor3D), [0]) as tf.Tensor1D;
    return { perHead, rollout };
  });
}
