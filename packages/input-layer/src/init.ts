import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@vitkit/core';

// Random initial values: a module given a `seed` draws every tfjs seed from one Rng
// (Rng.fromSeed), so the same seed always builds the same weights.

/** timm's trunc_normal_(std): normal with mean 0, cut at two standard deviations. */
export function truncNormal(shape: number[], std: number, rng: Rng): tf.Tensor {
  return tf.truncatedNormal(shape, 0, std, 'float32', rng.seed());
}

/** torch.nn.init.normal_(std). */
export function normal(shape: number[], std: number, rng: Rng): tf.Tensor {
  return tf.randomNormal(shape, 0, std, 'float32', rng.seed());
}

/** Uniform in [-bound, bound), as PyTorch's default Conv2d init draws weights and biases. */
export function symmetricUniform(shape: number[], bound: number, rng: Rng): tf.Tensor {
  return tf.randomUniform(shape, -bound, bound, 'float32', rng.seed());
}
