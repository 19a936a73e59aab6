import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../data/dataset.js';
import { makeBatch } from '../data/batch.js';
import { TrainingConfigError } from '../errors.js';
import { crossEntropy } from '../loss.js';
import type { TrainableModel } from './model.js';

export interface EvaluationResult {
  /** Fraction of samples whose top-1 prediction equals the label. */
  accuracy: number;
  /** Mean cross entropy (no smoothing). */
  loss: number;
  count: number;
}

/**
 * Test-time augmentation: `'none'` classifies each image once; `'flip'`
 * averages the class probabilities of the image and its mirror image (a
 * horizontal flip, which training's default augmentation also applies), so
 * the reported loss is that of the averaged probabilities.
 */
export type TestTimeAugmentation = 'none' | 'flip';

export const TEST_TIME_AUGMENTATIONS: readonly TestTimeAugmentation[] = ['none', 'flip'];

export interface EvaluateOptions {
  batchSize?: number;
  /** Default `'none'`. */
  tta?: TestTimeAugmentation;
  /** Called after each batch with the number of samples done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Log of the class probabilities `model` gives `x` (NHWC), averaged over the
 * views `tta` asks for; with one view these are the logits themselves (the
 * argmax and the cross entropy are the same either way).
 */
function viewLogits(model: TrainableModel, x: tf.Tensor4D, tta: TestTimeAugmentation): tf.Tensor2D {
  const logits = model.forward(x).logits;
  if (tta === 'none') return logits;
  const mirrored = model.forward(tf.reverse(x, 2)).logits;
  // log((softmax(a) + softmax(b)) / 2), computed stably from the log-softmaxes.
  const both = tf.stack([tf.logSoftmax(logits), tf.logSoftmax(mirrored)]);
  return tf.sub(tf.logSumExp(both, 0), Math.log(2)) as tf.Tensor2D;
}

/**
 * Top-1 accuracy and mean loss of `model` on `ds`, in eval mode (dropout
 * off); the model's mode is restored afterwards.
 */
export function evaluate(model: TrainableModel, ds: ImageDataset, options: EvaluateOptions = {}): EvaluationResult {
  const n = ds.shape[0];
  const bs = Math.max(1, options.batchSize ?? 256);
  const tta = options.tta ?? 'none';
  if (!TEST_TIME_AUGMENTATIONS.includes(tta)) {
    throw new TrainingConfigError(`unknown test-time augmentation '${String(tta)}'`, `use one of: ${TEST_TIME_AUGMENTATIONS.join(', ')}`);
  }
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  let lossSum = 0;
  try {
    for (let start = 0; start < n; start += bs) {
      const indices = Array.from({ length: Math.min(bs, n - start) }, (_, i) => start + i);
      const batch = makeBatch(ds, indices, model.config);
      const [hits, loss] = tf.tidy(() => {
        const logits = viewLogits(model, batch.x, tta);
        const pred = tf.argMax(logits, 1);
        return [tf.sum(tf.cast(tf.equal(pred, batch.y), 'float32')), tf.mul(crossEntropy(logits, batch.y), indices.length)];
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
