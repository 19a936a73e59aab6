import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@vitkit/core';

export interface ViTForwardOptions {
  /** Also return each block's attention probabilities `attentions` [B, heads, T, T]. */
  returnAttention?: boolean;
  /** Also return `embeddings`, `hiddenStates` (each block's output) and `finalNorm`. */
  returnHiddenStates?: boolean;
  /** Also return `tokens`: all tokens after the final norm (timm forward_features). */
  returnTokens?: boolean;
  /** Randomness for dropout and stochastic depth in training mode; defaults to the model's own seeded Rng. */
  rng?: Rng;
}

/**
 * What `VisionTransformer.forward` returns. Every tensor in it belongs to the
 * caller: dispose them all (`disposeViTOutput(out)`), including the optional
 * ones you asked for. Some fields may share one tensor (see below); disposing
 * a tensor twice is harmless in tfjs.
 */
export interface ViTOutput {
  /**
   * Classifier output [B, numClasses]. With numClasses 0 this is the same tensor as `features`.
   * Distilled models: the mean of `head` and `head_dist` (as timm evaluates them).
   */
  logits: tf.Tensor2D;
  /**
   * The classifier's input [B, D] (timm pre-logits): the class token, the mean of the patch
   * tokens, the attention pool's output, or (distilled) the mean of the class and distillation
   * tokens, after fc_norm when the model has one. With pooling `none`: all tokens [B, T, D].
   */
  features: tf.Tensor2D;
  /** All tokens after the final norm [B, T, D] (timm forward_features), with `returnTokens` or `returnHiddenStates`. */
  tokens?: tf.Tensor3D;
  /** Distilled models in training mode: the class-token head `head` [B, numClasses]. */
  clsLogits?: tf.Tensor2D;
  /** Distilled models in training mode: the distillation head `head_dist` [B, numClasses]. */
  distLogits?: tf.Tensor2D;
  /** Tokens entering the first block [B, T, D] (class/register tokens + patches + position embedding). */
  embeddings?: tf.Tensor3D;
  /** Each block's output [B, T, D], in order. */
  hiddenStates?: tf.Tensor3D[];
  /** All tokens after the final LayerNorm [B, T, D] (the same tensor as `tokens`; without `norm`: the last block's output). */
  finalNorm?: tf.Tensor3D;
  /** Each block's softmax attention probabilities [B, heads, T, T]. */
  attentions?: tf.Tensor4D[];
}

/** Frees every tensor in a forward result. */
export function disposeViTOutput(output: ViTOutput): void {
  tf.dispose([
    output.logits,
    output.features,
    ...(output.embeddings ? [output.embeddings] : []),
    ...(output.hiddenStates ?? []),
    ...(output.finalNorm ? [output.finalNorm] : []),
    ...(output.tokens ? [output.tokens] : []),
    ...(output.clsLogits ? [output.clsLogits] : []),
    ...(output.distLogits ? [output.distLogits] : []),
    ...(output.attentions ?? []),
  ]);
}
