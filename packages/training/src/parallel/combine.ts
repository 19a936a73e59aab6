import * as tf from '@tensorflow/tfjs-core';
import type { TrainableModel } from '../train/model.js';
import type { ShardResult } from './shard.js';

/**
 * The gradient of the whole batch from its shards': sum over shards of
 * weight x gradient, where weight is the shard's share of the batch. `own`
 * (this thread's tensors) is disposed; the result is new tensors.
 */
export function combineShardGradients(
  model: TrainableModel,
  own: Record<string, tf.Tensor>,
  others: readonly ShardResult[],
  weights: readonly number[],
): Record<string, tf.Tensor> {
  const shapes = new Map([...model.namedParameters()].map(([name, p]) => [name, p.variable.shape]));
  const names = new Set([...Object.keys(own), ...others.flatMap((r) => Object.keys(r.grads))]);
  const out: Record<string, tf.Tensor> = {};
  try {
    for (const name of names) {
      out[name] = tf.tidy(() => {
        let sum: tf.Tensor | undefined = own[name] ? tf.mul(own[name]!, weights[0]!) : undefined;
        others.forEach((r, w) => {
          const g = r.grads[name];
          if (!g) return;
          const term = tf.mul(tf.tensor(g, shapes.get(name)!, 'float32'), weights[w + 1]!);
          sum = sum ? tf.add(sum, term) : term;
        });
        return sum!;
      });
    }
  } finally {
    tf.dispose(Object.values(own));
  }
  return out;
}
