import * as tf from '@tensorflow/tfjs-core';

/** The L2 norm of all tensors taken together, as one number tensor. Caller disposes. */
export function globalNorm(tensors: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    if (tensors.length === 0) return tf.scalar(0);
    return tf.sqrt(tf.addN(tensors.map((t) => tf.sum(tf.square(t))))) as tf.Scalar;
  });
}

export interface ClipResult<T> {
  /** The clipped gradients (new tensors; the inputs are not disposed). */
  grads: T;
  /** The global norm before clipping. */
  norm: number;
}

/**
 * Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_ does it:
 * every gradient is multiplied by min(1, maxNorm / (norm + 1e-6)).
 * Returns new tensors; the caller disposes both the inputs and the outputs.
 * `knownNorm`: the global norm, already read (asynchronously) by the caller.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number, knownNorm?: number): ClipResult<Record<string, tf.Tensor>> {
  const names = Object.keys(grads);
  let norm = knownNorm;
  if (norm === undefined) {
    const normT = globalNorm(names.map((n) => grads[n]!));
    norm = normT.dataSync()[0]!;
    normT.dispose();
  }
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) out[n] = coef < 1 ? tf.tidy(() => tf.mul(grads[n]!, coef)) : grads[n]!.clone();
  return { grads: out, norm };
}
