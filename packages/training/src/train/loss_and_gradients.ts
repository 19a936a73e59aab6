import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@vitkit/core';
import { GradientsUnavailableError } from '../errors.js';
import { gradientsRegistered } from '../gradient_definitions.js';
import { crossEntropy, type Targets } from '../loss.js';
import type { TrainableModel } from './model.js';
import type { ModelSplit } from '../finetune/model_split.js';

export interface LossAndGradients {
  /** Mean loss over the micro-batches (each weighted equally). */
  loss: number;
  /**
   * Gradients of that mean loss, by parameter name. The caller disposes them.
   * Parameters the loss does not depend on have no entry (as PyTorch leaves
   * their `.grad` None).
   */
  grads: Record<string, tf.Tensor>;
  /**
   * With `keepLossTensors`: each micro-batch's loss, unread (`loss` is then
   * NaN); the caller reads them (`await data()`) and disposes them.
   */
  lossTensors?: tf.Scalar[];
}

export interface MicroBatch {
  /** Images [B, H, W, C]; with GradientOptions.precomputed, the split's frozen output instead. */
  x: tf.Tensor;
  targets: Targets;
}

export interface GradientOptions {
  /** Return the losses as tensors instead of reading them synchronously (see LossAndGradients.lossTensors). */
  keepLossTensors?: boolean;
  labelSmoothing?: number;
  /** Drives dropout and stochastic depth when the model is in training mode. */
  rng?: Rng;
  /**
   * Differentiate only the trainable part of this split of the model (see
   * splitModel): its frozen prefix runs outside the gradient tape, so no
   * backward work is done for it, and only trainable parameters get gradients.
   */
  split?: ModelSplit;
  /** The batches' `x` already hold the split's frozen output (cached embeddings). */
  precomputed?: boolean;
}

/**
 * The training loss of one forward pass: cross entropy of the logits, or for a
 * distilled model (DeiT: `clsLogits` from `head`, `distLogits` from `head_dist`)
 * the mean of both heads' cross entropies against the labels. That is DeiT's hard
 * distillation with the true labels standing in for a teacher's (vitkit has no
 * teacher), and it trains both heads; eval uses the mean of their logits.
 */
export function trainingLoss(
  out: { logits: tf.Tensor; clsLogits?: tf.Tensor; distLogits?: tf.Tensor },
  targets: Targets,
  labelSmoothing = 0,
): tf.Scalar {
  if (!out.clsLogits || !out.distLogits) return crossEntropy(out.logits, targets, { labelSmoothing });
  const { clsLogits, distLogits } = out;
  return tf.tidy(() => tf.div(tf.add(crossEntropy(clsLogits, targets, { labelSmoothing }), crossEntropy(distLogits, targets, { labelSmoothing })), 2) as tf.Scalar);
}

/**
 * Forward + backward over one or more micro-batches, accumulating the
 * gradient of the mean of their losses (gradient accumulation): the result
 * equals one pass over the concatenated batch when micro-batches are the
 * same size. Only the model's parameters are differentiated.
 */
export function lossAndGradients(model: TrainableModel, batches: readonly MicroBatch[], options: GradientOptions = {}): LossAndGradients {
  if (!gradientsRegistered()) {
    throw new GradientsUnavailableError('tfjs gradients are not registered', 'call `await registerGradients()` from @vitkit/training before training');
  }
  const { split, precomputed = false } = options;
  if (precomputed && !split) throw new GradientsUnavailableError('precomputed inputs need the model split they came from', 'pass options.split');
  const all = model.namedParameters();
  const params = split ? new Map(split.trainableNames.map((n) => [n, all.get(n)!])) : all;
  const varList = [...params.values()].map((p) => p.variable);
  const nameOf = new Map([...params].map(([name, p]) => [p.variable.name, name]));
  const rngOption = options.rng ? { rng: options.rng } : {};
  const scale = 1 / batches.length;
  let sum: Record<string, tf.Tensor> | undefined;
  let lossSum = 0;
  const lossTensors: tf.Scalar[] = [];
  for (const batch of batches) {
    // The frozen prefix runs here, before the tape starts recording.
    const h = split && !precomputed ? split.frozen(batch.x) : batch.x;
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      result = tf.variableGrads(() => {
        // Everything the forward pass returns besides the loss is freed by the tidy around it.
        const out = split ? split.trainable(h, options.rng) : model.forward(h, rngOption);
        return trainingLoss(out, batch.targets, options.labelSmoothing ?? 0);
      }, varList);
    } finally {
      if (h !== batch.x) h.dispose();
    }
    const { value, grads } = result;
    if (options.keepLossTensors) lossTensors.push(value);
    else {
      lossSum += value.dataSync()[0]!;
      value.dispose();
    }
    if (!sum) {
      sum = {};
      for (const [varName, g] of Object.entries(grads)) sum[nameOf.get(varName)!] = g;
    } else {
      for (const [varName, g] of Object.entries(grads)) {
        const name = nameOf.get(varName)!;
        const prev = sum[name]!;
        sum[name] = tf.add(prev, g);
        prev.dispose();
        g.dispose();
      }
    }
  }
  const grads: Record<string, tf.Tensor> = {};
  for (const [name, g] of Object.entries(sum ?? {})) {
    if (scale === 1) {
      grads[name] = g;
    } else {
      grads[name] = tf.mul(g, scale);
      g.dispose();
    }
  }
  if (options.keepLossTensors) return { loss: NaN, grads, lossTensors };
  return { loss: lossSum * scale, grads };
}
