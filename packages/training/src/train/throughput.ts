import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@vitkit/core';
import { TrainingConfigError } from '../errors.js';
import { AdamW } from '../optim/adamw.js';
import { clipByGlobalNorm } from '../optim/clip.js';
import { optimizedParameters } from '../optim/decay.js';
import { lossAndGradients } from './loss_and_gradients.js';
import type { TrainableModel } from './model.js';
import type { FreezeMode } from '../finetune/freeze.js';
import { splitModel } from '../finetune/model_split.js';

export interface ThroughputOptions {
  /** Images per step (default 32). */
  batch?: number;
  /** Timed steps (default 10). */
  steps?: number;
  /** Untimed steps first, to let the backend compile and allocate (default 2). */
  warmupSteps?: number;
  /** Keep the weights the steps produced instead of restoring them (default false). */
  keepWeights?: boolean;
}

export interface TrainingThroughput {
  imagesPerSecond: number;
  msPerStep: number;
  batch: number;
  steps: number;
  backend: string;
}

/** A benchmark training step on random data: see createTrainingStep. */
export interface TrainingStepRunner {
  /** One full step: forward, backward with label smoothing, clipping, AdamW. */
  step(): void;
  /** Restores the weights (unless keepWeights) and the model's mode, and frees the data and optimizer. */
  dispose(): void;
}

/**
 * The step `measureTrainingThroughput` times, for callers that time or
 * profile it themselves (`vit bench --profile`): full steps on random images
 * of the model's input size with AdamW (lr 1e-4, weight decay 0.05).
 */
export interface TrainingStepOptions {
  batch?: number;
  keepWeights?: boolean;
  /** Train only part of the model (frozen parts get no backward pass). Default 'none'. */
  freeze?: FreezeMode;
  /** With freeze 'backbone': step on features computed once (a probe on cached embeddings; the embedding is not timed). */
  cachedEmbeddings?: boolean;
}

export function createTrainingStep(model: TrainableModel, options: TrainingStepOptions = {}): TrainingStepRunner {
  const batch = options.batch ?? 32;
  if (!Number.isInteger(batch) || batch < 1) throw new TrainingConfigError(`batch must be a positive integer, got ${batch}`);
  const { imageSize, inChannels, numClasses } = model.config;
  const params = model.namedParameters();
  const freeze = options.freeze ?? 'none';
  if (options.cachedEmbeddings && freeze !== 'backbone') throw new TrainingConfigError('cached embeddings serve a linear probe', "use freeze 'backbone'");
  const split = freeze === 'none' ? undefined : splitModel(model, freeze);
  const trained = split ? new Map(split.trainableNames.map((n) => [n, params.get(n)!])) : params;
  const saved = options.keepWeights ? undefined : new Map([...params].map(([k, p]) => [k, p.variable.clone()]));
  const optimizer = new AdamW(optimizedParameters(trained), { lr: 1e-4, weightDecay: 0.05 });
  const rng = new Rng(0);
  const images = tf.randomNormal([batch, imageSize[0], imageSize[1], inChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const x = options.cachedEmbeddings ? split!.frozen(images) : images;
  if (x !== images) images.dispose();
  const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % Math.max(1, numClasses)), 'int32');
  const wasTraining = model.training;
  model.train();
  return {
    step(): void {
      const { grads } = lossAndGradients(model, [{ x, targets: y }], {
        labelSmoothing: 0.1,
        rng,
        ...(split ? { split } : {}),
        ...(options.cachedEmbeddings ? { precomputed: true } : {}),
      });
      const clipped = clipByGlobalNorm(grads, 1);
      optimizer.step(clipped.grads);
      tf.dispose([...Object.values(grads), ...Object.values(clipped.grads)]);
    },
    dispose(): void {
      model.train(wasTraining);
      tf.dispose([x, y]);
      optimizer.dispose();
      if (saved) {
        for (const [k, p] of params) p.variable.assign(saved.get(k)!);
        tf.dispose([...saved.values()]);
      }
    },
  };
}

/**
 * Training speed of `model` on the current backend: full steps (forward,
 * backward with label smoothing, clipping, AdamW) on random images of the
 * model's input size. The weights are restored afterwards unless
 * `keepWeights` is set. For `vit bench` and for choosing batch sizes.
 */
export function measureTrainingThroughput(model: TrainableModel, options: ThroughputOptions = {}): TrainingThroughput {
  const batch = options.batch ?? 32;
  const steps = options.steps ?? 10;
  const warmup = options.warmupSteps ?? 2;
  for (const [k, v] of [['batch', batch], ['steps', steps]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new TrainingConfigError(`${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(warmup) || warmup < 0) throw new TrainingConfigError(`warmupSteps must be an integer >= 0, got ${warmup}`);
  const runner = createTrainingStep(model, { batch, ...(options.keepWeights ? { keepWeights: true } : {}) });
  try {
    for (let i = 0; i < warmup; i++) runner.step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) runner.step();
    const ms = (performance.now() - t0) / steps;
    return { imagesPerSecond: (batch * 1000) / ms, msPerStep: ms, batch, steps, backend: tf.engine().backendName };
  } finally {
    runner.dispose();
  }
}
