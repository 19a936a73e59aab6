// Image classification: images in, the K most likely classes out.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@vitkit/core';
import { disposeViTOutput } from '@vitkit/vit';
import type { ImageInput } from './images.js';
import { loadTaskModel, TaskModel, type ModelSource, type PrepareOptions, type TaskOptions } from './model_source.js';

/** One class of one image. */
export interface Classification {
  /** The class name from the config's id2label / label_names, else the index as text. */
  label: string;
  index: number;
  /** Softmax probability. */
  probability: number;
}

/** Top classes and the raw logits of one image. */
export interface Prediction {
  top: Classification[];
  logits: number[];
}

export interface ClassifyOptions extends PrepareOptions {
  /** Classes per image, best first (default 5). */
  topK?: number;
}

/** Softmax of one row in float64, the max subtracted first. */
function softmaxRow(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

/**
 * Softmax probabilities and the K best classes of each row of `logits` (ties: lower index first).
 * `logits` is a tensor or its rows already read back (`await logits.array()`: preferred on GPU
 * backends, whose synchronous read gave wrong rows on WebGPU/SwiftShader in the browser tests).
 * The softmax runs in float64 on the rows, not as a backend kernel: exact, and the same everywhere.
 */
export function topPredictions(logits: tf.Tensor2D | readonly (readonly number[])[], k: number, labels: readonly string[] | undefined): Prediction[] {
  // Rows already read back (await logits.array()) keep GPU backends off their synchronous read path.
  const rows = logits instanceof tf.Tensor ? logits.arraySync() : logits.map((r) => [...r]);
  return rows.map((row) => {
    const p = softmaxRow(row);
    const order = p.map((_, j) => j).sort((a, b) => p[b]! - p[a]! || a - b);
    return {
      top: order.slice(0, Math.min(k, row.length)).map((index) => ({ label: labels?.[index] ?? String(index), index, probability: p[index]! })),
      logits: row,
    };
  });
}

/** A classifier: `classify(image)` → the top classes. Dispose it when done. */
export class ImageClassifier extends TaskModel {
  /** Classifies one image (→ its top classes) or a list of them (→ one list per image, in order). */
  async classify(image: ImageInput, options?: ClassifyOptions): Promise<Classification[]>;
  async classify(images: readonly ImageInput[], options?: ClassifyOptions): Promise<Classification[][]>;
  async classify(images: ImageInput | readonly ImageInput[], options: ClassifyOptions = {}): Promise<Classification[] | Classification[][]> {
    const results = await this.predict(images, options);
    return Array.isArray(images) ? results.map((r) => r.top) : results[0]!.top;
  }

  /** Top classes and logits for each image of a batch (a list, or a [B, H, W, C] tensor). */
  async predict(images: ImageInput | readonly ImageInput[], options: ClassifyOptions = {}): Promise<Prediction[]> {
    if (this.details.head !== 'classifier') {
      throw new ConfigError(
        this.details.head === 'projection' ? "this model's head is CLIP's visual_projection (image embeddings), not a classifier" : 'this model has no classifier (num_classes 0)',
        'load it with loadImageEmbedder to get its embeddings',
      );
    }
    const input = await this.preprocess(images, options);
    try {
      const out = this.model.forward(input);
      try {
        return topPredictions(await out.logits.array(), options.topK ?? 5, this.labels);
      } finally {
        disposeViTOutput(out);
      }
    } finally {
      input.dispose();
    }
  }
}

/**
 * Loads an image classifier from one source, with its labels (config.json) and preprocessing
 * (preprocessor_config.json or timm's pretrained_cfg).
 *
 * ```ts
 * const classifier = await loadImageClassifier('hf://google/vit-base-patch16-224');
 * const top = await classifier.classify('cat.jpg', { topK: 3 }); // [{ label, index, probability }, ...]
 * ```
 */
export async function loadImageClassifier(source: ModelSource, options: TaskOptions = {}): Promise<ImageClassifier> {
  return loadTaskModel(source, options, ImageClassifier);
}
