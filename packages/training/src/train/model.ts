import type * as tf from '@tensorflow/tfjs-core';
import type { Module, Rng, ViTConfig } from '@vitkit/core';

/**
 * What training needs from a model: a vitkit Module (named parameters,
 * train/eval modes) with a config and a forward pass that returns logits and
 * takes the Rng that drives dropout and stochastic depth.
 * `VisionTransformer` from @vitkit/vit is one. Distilled models (DeiT) also return,
 * in training mode, the logits of each of their two heads (`clsLogits`, `distLogits`).
 */
export interface TrainableModel extends Module {
  readonly config: ViTConfig;
  forward(x: tf.Tensor, options?: { rng?: Rng }): { logits: tf.Tensor2D; features?: tf.Tensor2D; clsLogits?: tf.Tensor2D; distLogits?: tf.Tensor2D };
}
