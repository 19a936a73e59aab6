// Image embeddings: images in, one vector per image out.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, numPrefixTokens } from '@vitkit/core';
import { disposeViTOutput } from '@vitkit/vit';
import type { ImageInput } from './images.js';
import { loadTaskModel, TaskModel, type ModelSource, type TaskOptions } from './model_source.js';

/**
 * How tokens become one vector:
 * - `model` (default): the model's own pooling, the classifier's input (timm pre-logits): class token,
 *   mean of patch tokens, attention pool (MAP), the class token of DINOv2, with fc_norm where the model has one;
 * - `cls`: the class token after the final norm;
 * - `mean`: the mean of the patch tokens (not class/register tokens) after the final norm;
 * - `tokens`: every token after the final norm, [tokens, dim] row-major.
 */
export type EmbedPooling = 'model' | 'cls' | 'mean' | 'tokens';

export const EMBED_POOLINGS: readonly EmbedPooling[] = ['model', 'cls', 'mean', 'tokens'];

export interface EmbedOptions {
  pooling?: EmbedPooling;
  /** Scale each vector (each token, with `tokens`) to unit L2 norm. */
  normalize?: boolean;
}

/** An embedder: `embed(images)` → one Float32Array per image. Dispose it when done. */
export class ImageEmbedder extends TaskModel {
  /** Width of one vector (of one token with pooling `tokens`). */
  get dim(): number {
    return this.config.embedDim;
  }

  /** One vector per image, in order (a [B, H, W, C] tensor counts as B images). */
  async embed(images: ImageInput | readonly ImageInput[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const pooling = options.pooling ?? 'model';
    if (!EMBED_POOLINGS.includes(pooling)) throw new ConfigError(`unknown pooling "${String(pooling)}"`, `use one of: ${EMBED_POOLINGS.join(', ')}`);
    if (pooling === 'cls' && !this.config.classToken) throw new ConfigError('this model has no class token', 'use pooling "model" or "mean"');
    const input = await this.preprocess(images);
    try {
      const out = this.model.forward(input, { returnTokens: pooling !== 'model' });
      try {
        const prefix = numPrefixTokens(this.config);
        const pooled = tf.tidy(() => {
          if (pooling === 'model') return out.features;
          const tokens = out.tokens!;
          if (pooling === 'cls') return tf.squeeze(tf.slice(tokens, [0, 0, 0], [-1, 1, -1]), [1]);
          if (pooling === 'mean') return tf.mean(tf.slice(tokens, [0, prefix, 0], [-1, -1, -1]), 1);
          return tokens;
        });
        const batch = pooled.shape[0]!;
        const data = pooled.dataSync() as Float32Array;
        if (pooled !== out.features && pooled !== out.tokens) pooled.dispose();
        const size = data.length / batch;
        const vectors = Array.from({ length: batch }, (_, i) => Float32Array.from(data.subarray(i * size, (i + 1) * size)));
        if (options.normalize) for (const v of vectors) normalizeRows(v, this.dim);
        return vectors;
      } finally {
        disposeViTOutput(out);
      }
    } finally {
      input.dispose();
    }
  }
}

/** Scales each `width`-long row of `v` to unit L2 norm, in place (zero rows stay zero). */
function normalizeRows(v: Float32Array, width: number): void {
  for (let s = 0; s < v.length; s += width) {
    let sum = 0;
    for (let i = s; i < s + width; i++) sum += v[i]! * v[i]!;
    const norm = Math.sqrt(sum);
    if (norm > 0) for (let i = s; i < s + width; i++) v[i] = v[i]! / norm;
  }
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new ConfigError(`vectors differ in length (${a.length} and ${b.length})`, 'compare embeddings of the same model and pooling');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Loads an image embedder (any ViT: DINOv2, CLIP / SigLIP image towers, classifiers'
 * pre-logits) from one source, with its preprocessing.
 *
 * ```ts
 * const embedder = await loadImageEmbedder('hf://facebook/dinov2-small');
 * const [a, b] = await embedder.embed(['a.jpg', 'b.jpg']);
 * console.log(cosineSimilarity(a, b));
 * ```
 */
export async function loadImageEmbedder(source: ModelSource, options: TaskOptions = {}): Promise<ImageEmbedder> {
  return loadTaskModel(source, options, ImageEmbedder);
}
