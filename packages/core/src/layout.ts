import * as tf from '@tensorflow/tfjs-core';

/**
 * How a parameter is stored internally versus how PyTorch (and so timm's
 * checkpoints) store it. Internally linear weights are [in, out] so that the
 * forward pass is a plain, non-transposed matMul (the fast path on wasm), and
 * the patch projection is a [P*P*C, D] matrix for the same reason.
 *
 * - `plain`:  same layout in both.
 * - `linear`: torch [out, in]  <->  internal [in, out].
 * - `patch`:  torch Conv2d [D, C, P, P]  <->  internal [P*P*C, D] (rows in (ph, pw, c) order).
 */
export type ParamLayout = 'plain' | 'linear' | 'patch';

/** Converts an internal tensor to the PyTorch layout. Caller owns the result. */
export function toTorchLayout(layout: ParamLayout, t: tf.Tensor, torchShape?: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'plain':
        return t.clone();
      case 'linear':
        return tf.transpose(t, [1, 0]);
      case 'patch': {
        if (!torchShape || torchShape.length !== 4) throw new Error('patch layout needs the torch shape [D, C, P, P]');
        const [d, c, p, q] = torchShape as [number, number, number, number];
        // [P*P*C, D] -> [P, P, C, D] -> [D, C, P, P]
        return tf.transpose(tf.reshape(t, [p, q, c, d]), [3, 2, 0, 1]);
      }
    }
  });
}

/** Converts a PyTorch-layout tensor to the internal layout. Caller owns the result. */
export function fromTorchLayout(layout: ParamLayout, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'plain':
        return t.clone();
      case 'linear':
        return tf.transpose(t, [1, 0]);
      case 'patch': {
        const [d, c, p, q] = t.shape as [number, number, number, number];
        // [D, C, P, P] -> [P, P, C, D] -> [P*P*C, D]
        return tf.reshape(tf.transpose(t, [2, 3, 1, 0]), [p * q * c, d]);
      }
    }
  });
}
