import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../data/dataset.js';
import { DEFAULT_CROP_SCALE } from '../data/augmentation.js';
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
 * horizontal flip, which training's default augmentation also applies);
 * `'flip-zoom'` adds a centred, enlarged view of each (a crop of `zoom` of
 * the width and height resized back, like training's random resized crop),
 * four views in all. The reported loss is that of the averaged probabilities.
 */
export type TestTimeAugmentation = 'none' | 'flip' | 'flip-zoom';

export const TEST_TIME_AUGMENTATIONS: readonly TestTimeAugmentation[] = ['none', 'flip', 'flip-zoom'];

/**
 * The side fraction flip-zoom's enlarged views keep by default: that of the
 * smallest crop training's default augmentation takes (area
 * DEFAULT_CROP_SCALE). On Fashion-MNIST validation images it gave the lowest
 * loss of the fractions tried (0.90-0.96; packages/training/README.md).
 */
export const DEFAULT_TTA_ZOOM = Math.sqrt(DEFAULT_CROP_SCALE);

export interface EvaluateOptions {
  batchSize?: number;
  /** Default `'none'`. */
  tta?: TestTimeAugmentation;
  /** Side fraction (0 < zoom <= 1) of the centre crop in flip-zoom's enlarged views (default DEFAULT_TTA_ZOOM). */
  zoom?: number;
  /** Called after each batch with the number of samples done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The centre `fraction` of each image's height and width, resized back to
 * the full size with bilinear sampling (the enlarged view of flip-zoom).
 */
export function zoomCenter(x: tf.Tensor4D, fraction: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w] = x.shape;
    const lo = (1 - fraction) / 2;
    const boxes = tf.tensor2d(new Float32Array(n * 4).map((_, i) => (i % 4 < 2 ? lo : lo + fraction)), [n, 4]);
    const boxIndices = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => i), 'int32');
    return tf.image.cropAndResize(x, boxes, boxIndices, [h, w], 'bilinear');
  });
}

/** The views of a batch that `tta` classifies. */
function views(x: tf.Tensor4D, tta: TestTimeAugmentation, zoom: number): tf.Tensor4D[] {
  if (tta === 'none') return [x];
  const mirror = (v: tf.Tensor4D): tf.Tensor4D => tf.reverse(v, 2);
  if (tta === 'flip') return [x, mirror(x)];
  const zoomed = zoomCenter(x, zoom);
  return [x, mirror(x), zoomed, mirror(zoomed)];
}

/**
 * Log of the class probabilities `model` gives `x` (NHWC), averaged over the
 * views `tta` asks for; with one view these are the logits themselves (the
 * argmax and the cross entropy are the same either way).
 */
function viewLogits(model: TrainableModel, x: tf.Tensor4D, tta: TestTimeAugmentation, zoom: number): tf.Tensor2D {
  const all = views(x, tta, zoom);
  if (all.length === 1) return model.forward(x).logits;
  // log(mean_i softmax(logits_i)), computed stably from the log-softmaxes.
  const logProbs = tf.stack(all.map((v) => tf.logSoftmax(model.forward(v).logits)));
  return tf.sub(tf.logSumExp(logProbs, 0), Math.log(all.length)) as tf.Tensor2D;
}

interface EvaluationRun {
  n: number;
  /** Batch start offsets. */
  starts: number[];
  /** Number of hits and summed loss of the batch at `start`, as tensors (the caller reads and disposes them). */
  score(start: number): [tf.Scalar, tf.Scalar];
  finish(correct: number, lossSum: number): EvaluationResult;
}

/** Checks the options and puts the model in eval mode (finish() or restore() puts it back). */
function startEvaluation(model: TrainableModel, ds: ImageDataset, options: EvaluateOptions): EvaluationRun & { restore(): void } {
  const n = ds.shape[0];
  const bs = Math.max(1, options.batchSize ?? 256);
  const tta = options.tta ?? 'none';
  if (!TEST_TIME_AUGMENTATIONS.includes(tta)) {
    throw new TrainingConfigError(`unknown test-time augmentation '${String(tta)}'`, `use one of: ${TEST_TIME_AUGMENTATIONS.join(', ')}`);
  }
  const zoom = options.zoom ?? DEFAULT_TTA_ZOOM;
  if (!(zoom > 0 && zoom <= 1)) {
    throw new TrainingConfigError(`test-time zoom ${zoom} is outside (0, 1]`, 'give the side fraction of the centre crop, e.g. 0.92');
  }
  const wasTraining = model.training;
  model.eval();
  const restore = (): void => void model.train(wasTraining);
  return {
    n,
    starts: Array.from({ length: Math.ceil(n / bs) }, (_, i) => i * bs),
    score(start) {
      const indices = Array.from({ length: Math.min(bs, n - start) }, (_, i) => start + i);
      const batch = makeBatch(ds, indices, model.config);
      try {
        const [hits, loss] = tf.tidy(() => {
          const logits = viewLogits(model, batch.x, tta, zoom);
          const pred = tf.argMax(logits, 1);
          return [tf.sum(tf.cast(tf.equal(pred, batch.y), 'float32')), tf.mul(crossEntropy(logits, batch.y), indices.length)];
        });
        options.onProgress?.(start + indices.length, n);
        return [hits as tf.Scalar, loss as tf.Scalar];
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
    },
    finish: (correct, lossSum) => ({ accuracy: n === 0 ? 0 : correct / n, loss: n === 0 ? 0 : lossSum / n, count: n }),
    restore,
  };
}

/**
 * Top-1 accuracy and mean loss of `model` on `ds`, in eval mode (dropout
 * off); the model's mode is restored afterwards.
 */
export function evaluate(model: TrainableModel, ds: ImageDataset, options: EvaluateOptions = {}): EvaluationResult {
  const run = startEvaluation(model, ds, options);
  let correct = 0;
  let lossSum = 0;
  try {
    for (const start of run.starts) {
      const [hits, loss] = run.score(start);
      correct += hits.dataSync()[0]!;
      lossSum += loss.dataSync()[0]!;
      tf.dispose([hits, loss]);
    }
  } finally {
    run.restore();
  }
  return run.finish(correct, lossSum);
}

/**
 * evaluate() reading its results with `await data()`: for backends whose
 * synchronous reads are slow or unreliable (webgpu, notably in workers).
 */
export async function evaluateAsync(model: TrainableModel, ds: ImageDataset, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const run = startEvaluation(model, ds, options);
  // Scores of every batch first (scalars, on the device), then one read of them all.
  const scores: tf.Scalar[] = [];
  try {
    for (const start of run.starts) scores.push(...run.score(start));
  } catch (e) {
    tf.dispose(scores);
    throw e;
  } finally {
    run.restore();
  }
  try {
    const values = await Promise.all(scores.map((t) => t.data()));
    let correct = 0;
    let lossSum = 0;
    for (let i = 0; i < values.length; i += 2) {
      correct += values[i]![0]!;
      lossSum += values[i + 1]![0]!;
    }
    return run.finish(correct, lossSum);
  } finally {
    tf.dispose(scores);
  }
}
