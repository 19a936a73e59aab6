import * as tf from '@tensorflow/tfjs-core';
import type { Pooling } from '@vitkit/core';

/**
 * One vector per image from tokens [B, T, D], as timm's `global_pool`:
 * `token` takes the class token (index 0); `mean` averages the patch tokens,
 * skipping the `numPrefixTokens` class/register tokens in front.
 */
export function poolTokens(x: tf.Tensor3D, pooling: Pooling, numPrefixTokens: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t, d] = x.shape;
    if (pooling === 'token') return tf.reshape(tf.slice(x, [0, 0, 0], [b, 1, d]), [b, d]);
    return tf.mean(tf.slice(x, [0, numPrefixTokens, 0], [b, t - numPrefixTokens, d]), 1);
  });
}
