import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../data/dataset.js';
import { makeBatch } from '../data/batch.js';
import { crossEntropy } from '../loss.js';
import type { TrainableModel } from './model.js';

export interface EvaluationResult {
  /** Fraction of samples whose top-1 prediction equals the label. */
  accuracy: number;
  /** Mean cross entropy (no smoothing). */
  loss: number;
  count: number;
}

export interface EvaluateOptions {
  batchSize?: number;
  /** Called after each batch with the number of samples done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Top-1 accuracy and mean loss of `model` on `ds`, in eval mode (dropout
 * off); the model's mode is restored afterwards.
 */
export function evaluate(model: TrainableModel, ds: ImageDataset, options: EvaluateOptions = {}): EvaluationResult {
  const n = ds.shape[0];
  const bs = Math.max(1, options.batchSize ?? 256);
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  let lossSum = 0;
  try {
    for (let start = 0; start < n; start += bs) {
      const indices = Array.from({ length: Math.min(bs, n - start) }, (_, i) => start + i);
      const batch = makeBatch(ds, indices, model.config);
      const [hits, loss] = tf.tidy(() => {
        const out = model.forward(batch.x);
        const pred = tf.argMax(out.logits, 1);
        return [tf.sum(tf.cast(tf.equal(pred, batch.y), 'float32')), tf.mul(crossEntropy(out.logits, batch.y), indices.length)];
      });
      correct += hits!.dataSync()[0]!;
      lossSum += loss!.dataSync()[0]!;
      tf.dispose([hits!, loss!, batch.x, batch.y]);
      options.onProgress?.(start + indices.length, n);
    }
  } finally {
    model.train(wasTraining);
  }
  return { accuracy: n === 0 ? 0 : correct / n, loss: n === 0 ? 0 : lossSum / n, count: n };
}
