import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '@vitkit/core';

export interface CrossEntropyOptions {
  /** Mixes each target with the uniform distribution: (1 - s) * target + s / K (torch's `label_smoothing`). */
  labelSmoothing?: number;
}

/**
 * Targets for cross entropy: class indices [B] (int32) or a probability
 * distribution per sample [B, K] (mixup produces these).
 */
export type Targets = tf.Tensor1D | tf.Tensor2D;

/** Turns class indices or soft targets into [B, K] probabilities, smoothed as torch smooths them. */
export function smoothTargets(targets: Targets, numClasses: number, labelSmoothing = 0): tf.Tensor2D {
  return tf.tidy(() => {
    // oneHot in int32, then cast: the wasm backend's OneHot kernel writes integer bits into float32 outputs (1 becomes 1.4e-45).
    const probs = targets.rank === 1 ? tf.cast(tf.oneHot(tf.cast(targets, 'int32'), numClasses), 'float32') : tf.cast(targets, 'float32');
    if (labelSmoothing === 0) return probs as tf.Tensor2D;
    return tf.add(tf.mul(probs, 1 - labelSmoothing), labelSmoothing / numClasses) as tf.Tensor2D;
  });
}

/**
 * Mean cross entropy of `logits` [B, K] against `targets`, as
 * torch.nn.functional.cross_entropy(logits, targets, label_smoothing=s)
 * computes it: -(sum_k q_k log softmax(z)_k) averaged over the batch, with
 * q = (1 - s) * onehot + s / K.
 */
export function crossEntropy(logits: tf.Tensor, targets: Targets, options: CrossEntropyOptions = {}): tf.Scalar {
  const s = options.labelSmoothing ?? 0;
  if (!(s >= 0 && s < 1)) throw new ShapeError(`labelSmoothing must be in [0, 1), got ${s}`, 'use e.g. 0.1');
  if (logits.rank !== 2) throw new ShapeError(`logits must be [batch, classes], got shape [${logits.shape.join(', ')}]`);
  const [b, k] = logits.shape as [number, number];
  if (targets.shape[0] !== b || (targets.rank === 2 && targets.shape[1] !== k)) {
    throw new ShapeError(
      `targets of shape [${targets.shape.join(', ')}] do not fit logits of shape [${b}, ${k}]`,
      'give one class index (or one distribution over the classes) per sample',
    );
  }
  return tf.tidy(() => {
    const q = smoothTargets(targets, k, s);
    const logp = tf.logSoftmax(logits as tf.Tensor2D);
    return tf.neg(tf.mean(tf.sum(tf.mul(q, logp), 1))) as tf.Scalar;
  });
}
