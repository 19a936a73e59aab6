import * as tf from '@tensorflow/tfjs-core';
import { MAX_TENSOR_ELEMENTS } from '@vitkit/core';
import { gatherPixels, pixelsToTensor } from '../data/batch.js';
import type { ImageDataset } from '../data/dataset.js';
import { TrainingConfigError } from '../errors.js';
import type { TrainableModel } from '../train/model.js';
import { splitModel, type ModelSplit } from './model_split.js';

/**
 * A dataset embedded once by a model's frozen backbone: row i holds the
 * pre-logits features of sample i (distilled models: its class and
 * distillation tokens). A linear probe trains on these rows instead of the
 * images (TrainerOptions.embeddings).
 */
export interface EmbeddingCache {
  /** The probe split whose frozen part made the rows (its trainable part reads them). */
  readonly split: ModelSplit;
  /** Row-major [count, ...rowShape]. */
  readonly data: Float32Array;
  readonly count: number;
  /** One sample's shape: [D], or [2, D] for distilled models. */
  readonly rowShape: readonly number[];
}

export interface EmbedOptions {
  /** Images per forward pass (default 64). */
  batchSize?: number;
  /** Called after every batch with the samples done so far. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The embedding loop: yields each batch's features and is handed back their
 * values, so the same loop serves a synchronous read (embedDataset) and an
 * asynchronous one (embedDatasetAsync). Disposes every batch it yields.
 */
function* embedBatches(model: TrainableModel, data: ImageDataset, options: EmbedOptions): Generator<tf.Tensor, EmbeddingCache, ArrayLike<number>> {
  const split = splitModel(model, 'backbone');
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainingConfigError(`embedding batch size must be a positive integer, got ${batchSize}`);
  const [n, h, w, c] = data.shape;
  let out: Float32Array | undefined;
  let rowShape: number[] = [];
  let rowSize = 0;
  for (let start = 0; start < n; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, n - start) }, (_, k) => start + k);
    const features = tf.tidy(() => split.frozen(pixelsToTensor(gatherPixels(data, indices), [indices.length, h, w, c], model.config)));
    try {
      if (!out) {
        rowShape = features.shape.slice(1);
        rowSize = rowShape.reduce((a, b) => a * b, 1);
        if (n * rowSize > MAX_TENSOR_ELEMENTS) {
          throw new TrainingConfigError(`embedding ${n} samples of ${rowSize} values exceeds ${MAX_TENSOR_ELEMENTS} values`, 'use fewer images or train the probe on the full model');
        }
        out = new Float32Array(n * rowSize);
      }
      out.set(yield features, start * rowSize);
    } finally {
      features.dispose();
    }
    options.onProgress?.(start + indices.length, n);
  }
  return { split, data: out ?? new Float32Array(0), count: n, rowShape };
}

/**
 * Runs every image of `data` (no augmentation, the same preprocessing as
 * training) through the model's frozen backbone in eval mode and keeps the
 * features. The rows are exactly what a probe on the full model computes
 * for the same images, so training on them gives the same steps, in seconds.
 */
export function embedDataset(model: TrainableModel, data: ImageDataset, options: EmbedOptions = {}): EmbeddingCache {
  const batches = embedBatches(model, data, options);
  try {
    for (let r = batches.next(); ; r = batches.next(r.value.dataSync())) if (r.done) return r.value;
  } finally {
    batches.return(undefined as never);
  }
}

/**
 * embedDataset() reading the features with `await data()`: the same rows,
 * for webgpu (whose synchronous reads are unreliable in workers) and to keep
 * a page responsive while it embeds.
 */
export async function embedDatasetAsync(model: TrainableModel, data: ImageDataset, options: EmbedOptions = {}): Promise<EmbeddingCache> {
  const batches = embedBatches(model, data, options);
  try {
    for (let r = batches.next(); ; r = batches.next(await r.value.data())) if (r.done) return r.value;
  } finally {
    batches.return(undefined as never);
  }
}

/** The rows at `indices` as one tensor [B, ...rowShape]. Caller disposes. */
export function embeddingRows(cache: EmbeddingCache, indices: readonly number[]): tf.Tensor {
  const size = cache.rowShape.reduce((a, b) => a * b, 1);
  const rows = new Float32Array(indices.length * size);
  indices.forEach((i, k) => rows.set(cache.data.subarray(i * size, (i + 1) * size), k * size));
  return tf.tensor(rows, [indices.length, ...cache.rowShape], 'float32');
}
