import * as tf from '@tensorflow/tfjs-core';
import type { Module, Rng } from '@vitkit/core';
import { TrainingConfigError } from '../errors.js';
import type { TrainableModel } from '../train/model.js';
import { formatFreeze, validateFreeze, type FreezeMode } from './freeze.js';

/** A part of the model with its own forward pass. */
type Stage<I, O> = Module & { forward(x: I, options?: { rng?: Rng }): O };

/**
 * The structure freezing needs: a ViT as @vitkit/vit's VisionTransformer
 * builds it (input layer, encoder blocks, head with its classifier Linear).
 * VisionTransformer is one; the interface is structural so that this package
 * does not need the class.
 */
export interface FineTunableModel extends TrainableModel {
  readonly inputLayer: Stage<tf.Tensor, tf.Tensor3D>;
  readonly encoder: { readonly blocks: readonly Stage<tf.Tensor, { output: tf.Tensor3D }>[] };
  readonly head: Module & {
    readonly head: Stage<tf.Tensor, tf.Tensor> | undefined;
    readonly headDist: Stage<tf.Tensor, tf.Tensor> | undefined;
    forward(tokens: tf.Tensor3D): { logits: tf.Tensor2D; features: tf.Tensor2D; normed: tf.Tensor3D; clsLogits?: tf.Tensor2D; distLogits?: tf.Tensor2D };
  };
}

/** The trainable part's output, as lossAndGradients' loss reads it. */
export interface SplitOutput {
  logits: tf.Tensor2D;
  clsLogits?: tf.Tensor2D;
  distLogits?: tf.Tensor2D;
}

/**
 * A model cut into a frozen prefix and a trainable rest.
 * `trainable(frozen(x))` is the model's forward pass (frozen parts in eval mode).
 */
export interface ModelSplit {
  readonly freeze: FreezeMode;
  /** Names (as in model.namedParameters()) of the parameters that train, in model order. */
  readonly trainableNames: readonly string[];
  /**
   * Images [B, H, W, C] → the frozen prefix's output: tokens [B, T, D] for
   * blocks:K; for a probe the pre-logits features [B, D] (distilled models:
   * class and distillation tokens [B, 2, D]). Eval mode, no gradient tape. Caller disposes.
   */
  frozen(x: tf.Tensor): tf.Tensor;
  /** The frozen output → logits; call inside the gradient computation. */
  trainable(h: tf.Tensor, rng?: Rng): SplitOutput;
}

export function isFineTunable(model: TrainableModel): model is FineTunableModel {
  const m = model as unknown as Partial<FineTunableModel>;
  return typeof m.inputLayer?.forward === 'function' && Array.isArray(m.encoder?.blocks) && typeof m.head?.forward === 'function';
}

/** Runs `fn` with `modules` in eval mode, restoring each one's mode afterwards. */
function inEvalMode<T>(modules: readonly Module[], fn: () => T): T {
  const modes = modules.map((m) => m.training);
  for (const m of modules) m.eval();
  try {
    return fn();
  } finally {
    modules.forEach((m, i) => m.train(modes[i]));
  }
}

function parameterNamesOf(model: Module, parts: readonly Module[]): string[] {
  const vars = new Set(parts.flatMap((p) => [...p.namedParameters().values()].map((q) => q.variable)));
  return [...model.namedParameters()].filter(([, p]) => vars.has(p.variable)).map(([name]) => name);
}

/**
 * Cuts `model` for a freeze mode. Throws a TrainingConfigError for a model
 * without the ViT structure, or a probe on a model without a classifier.
 */
export function splitModel(model: TrainableModel, freeze: FreezeMode): ModelSplit {
  if (!isFineTunable(model)) throw new TrainingConfigError(`freeze ${formatFreeze(freeze)} needs a ViT (input layer, blocks, head)`, 'use a VisionTransformer from @vitkit/vit');
  const blocks = model.encoder.blocks;
  validateFreeze(freeze, blocks.length);
  const { inputLayer, head } = model;
  if (freeze === 'none') {
    return {
      freeze,
      trainableNames: [...model.namedParameters().keys()],
      frozen: (x) => x.clone(),
      trainable: (x, rng) => model.forward(x, rng ? { rng } : {}),
    };
  }
  if (freeze === 'backbone') {
    const classifier = head.head;
    if (!classifier) throw new TrainingConfigError('a linear probe needs a classifier, but this model has none (numClasses 0)', 'build the model with numClasses set');
    const distilled = head.headDist !== undefined;
    const frozenModules = [inputLayer, ...blocks, head];
    return {
      freeze,
      trainableNames: parameterNamesOf(model, distilled ? [classifier, head.headDist!] : [classifier]),
      frozen: (x) =>
        inEvalMode(frozenModules, () =>
          tf.tidy(() => {
            let h = inputLayer.forward(x);
            for (const b of blocks) h = b.forward(h).output;
            const out = head.forward(h);
            // timm VisionTransformerDistilled: `head` reads the class token, `head_dist` the distillation token.
            return distilled ? tf.slice(out.normed, [0, 0, 0], [-1, 2, -1]) : out.features;
          }),
        ),
      trainable: (h) => {
        if (!distilled) return { logits: classifier.forward(h) as tf.Tensor2D };
        const [b, , d] = h.shape as [number, number, number];
        const clsLogits = classifier.forward(tf.reshape(tf.slice(h, [0, 0, 0], [b, 1, d]), [b, d])) as tf.Tensor2D;
        const distLogits = head.headDist!.forward(tf.reshape(tf.slice(h, [0, 1, 0], [b, 1, d]), [b, d])) as tf.Tensor2D;
        return { logits: tf.div(tf.add(clsLogits, distLogits), 2) as tf.Tensor2D, clsLogits, distLogits };
      },
    };
  }
  const first = blocks.length - freeze.blocks;
  const frozenBlocks = blocks.slice(0, first);
  const trainBlocks = blocks.slice(first);
  return {
    freeze,
    trainableNames: parameterNamesOf(model, [...trainBlocks, head]),
    frozen: (x) =>
      inEvalMode([inputLayer, ...frozenBlocks], () =>
        tf.tidy(() => {
          let h = inputLayer.forward(x);
          for (const b of frozenBlocks) h = b.forward(h).output;
          return h;
        }),
      ),
    trainable: (h, rng) => {
      let t = h as tf.Tensor3D;
      for (const b of trainBlocks) t = b.forward(t, rng ? { rng } : {}).output;
      const out = head.forward(t);
      return { logits: out.logits, ...(out.clsLogits && out.distLogits ? { clsLogits: out.clsLogits, distLogits: out.distLogits } : {}) };
    },
  };
}
