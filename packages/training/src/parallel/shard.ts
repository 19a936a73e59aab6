import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@vitkit/core';
import { lossAndGradients, type MicroBatch } from '../train/loss_and_gradients.js';
import type { TrainableModel } from '../train/model.js';

/**
 * Data-parallel training splits every step's batch into shards: the main
 * thread computes the gradient of one, gradient workers (other threads, each
 * with a replica of the model) compute the others, and the main thread
 * averages them before clipping and the optimizer step. These are the plain
 * arrays that cross between threads.
 */

/** One micro-batch (or its share of one) as arrays. */
export interface ShardBatch {
  /** Model-ready inputs (normalized), NHWC. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** Class indices [n] (Int32Array) or target distributions [n, K] (Float32Array). */
  targets: Int32Array | Float32Array;
  targetShape: number[];
}

/** What a gradient worker needs for one step. */
export interface ShardRequest {
  /** The model's current weights, by parameter name. */
  params: Record<string, Float32Array>;
  /** Its share of each micro-batch; their mean loss is differentiated. */
  batches: ShardBatch[];
  labelSmoothing: number;
  /** Seeds the Rng that drives dropout and drop-path on this shard. */
  seed: number;
}

/** The loss and gradients of a shard, by parameter name (parameters the loss does not touch are absent). */
export interface ShardResult {
  loss: number;
  grads: Record<string, Float32Array>;
}

/** Something that computes shard gradients elsewhere: `count` workers, addressed 0..count-1. */
export interface ShardWorkers {
  readonly count: number;
  compute(worker: number, request: ShardRequest): Promise<ShardResult>;
}

/** Copies a tensor's values out (never a view of backend memory, so it can be transferred). */
function tensorValues(t: tf.Tensor): Float32Array {
  return new Float32Array(t.dataSync());
}

/** The model's weights as arrays, by parameter name. */
export function modelWeights(model: TrainableModel): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, p] of model.namedParameters()) out[name] = tensorValues(p.variable);
  return out;
}

/** Sets the model's weights from arrays (names and sizes must match the model's parameters). */
export function setModelWeights(model: TrainableModel, weights: Record<string, Float32Array>): void {
  for (const [name, p] of model.namedParameters()) {
    const values = weights[name];
    if (!values) throw new Error(`shard request lacks parameter ${name}`);
    if (values.length !== p.variable.size) throw new Error(`parameter ${name} has ${values.length} values, the model ${p.variable.size}`);
    tf.tidy(() => p.variable.assign(tf.tensor(values, p.variable.shape, 'float32')));
  }
}

/** A micro-batch of tensors as arrays. */
export function shardBatchOf(batch: MicroBatch): ShardBatch {
  const targets = batch.targets.dtype === 'int32' ? new Int32Array(batch.targets.dataSync() as Int32Array) : tensorValues(batch.targets);
  return { x: tensorValues(batch.x), shape: batch.x.shape as ShardBatch['shape'], targets, targetShape: batch.targets.shape };
}

/** Arrays back to a micro-batch of tensors (the caller disposes them). */
function microBatchOf(batch: ShardBatch): MicroBatch {
  const x = tf.tensor4d(batch.x, batch.shape, 'float32');
  const targets = batch.targets instanceof Int32Array ? tf.tensor(batch.targets, batch.targetShape, 'int32') : tf.tensor(batch.targets, batch.targetShape, 'float32');
  return { x, targets: targets as MicroBatch['targets'] };
}

/**
 * The worker side of a step: loads the weights into the replica, then
 * computes the loss and gradients of the shard in training mode.
 */
export function computeShard(model: TrainableModel, request: ShardRequest): ShardResult {
  setModelWeights(model, request.params);
  model.train();
  const micro = request.batches.map(microBatchOf);
  try {
    const { loss, grads } = lossAndGradients(model, micro, { labelSmoothing: request.labelSmoothing, rng: new Rng(request.seed) });
    const out: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(grads)) {
      out[name] = tensorValues(g);
      g.dispose();
    }
    return { loss, grads: out };
  } finally {
    for (const m of micro) tf.dispose([m.x, m.targets]);
  }
}

/** Sizes of `count` near-equal contiguous parts of `n` items (the first ones one larger). */
export function shardSizes(n: number, count: number): number[] {
  const base = Math.floor(n / count);
  return Array.from({ length: count }, (_, i) => base + (i < n % count ? 1 : 0));
}
