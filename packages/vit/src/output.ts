import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@vitkit/core';

export interface ViTForwardOptions {
  /** Also return each block's attention probabilities `attentions` [B, heads, T, T]. */
  returnAttention?: boolean;
  /** Also return `embeddings`, `hiddenStates` (each block's output) and `finalNorm`. */
  returnHiddenStates?: boolean;
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
  /** Classifier output [B, numClasses]. With numClasses 0 this is the same tensor as `features`. */
  logits: tf.Tensor2D;
  /** The classifier's input [B, D]: the pooled token (token pooling) or fc_norm(mean of patch tokens). */
  features: tf.Tensor2D;
  /** Tokens entering the first block [B, T, D] (class/register tokens + patches + position embedding). */
  embeddings?: tf.Tensor3D;
  /** Each block's output [B, T, D], in order. */
  hiddenStates?: tf.Tensor3D[];
  /** All tokens after the final LayerNorm [B, T, D] (with mean pooling: the last block's output, unnormalized). */
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
    ...(output.attentions ?? []),
  ]);
}
