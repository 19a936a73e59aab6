// Image embeddings: images in, one vector per image out.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, numPrefixTokens } from '@vitkit/core';
import { disposeViTOutput } from '@vitkit/vit';
import type { ImageInput } from './images.js';
import { loadTaskModel, TaskModel, type ModelSource, type PrepareOptions, type TaskOptions } from './model_source.js';

/**
 * How tokens become one vector:
 * - `model` (default): the model's own image embedding. For a CLIP checkpoint with `visual_projection`
 *   (Hugging Face CLIPModel / CLIPVisionModelWithProjection), the projected embedding that
 *   transformers' `get_image_features` returns (the space text embeddings live in, for zero-shot);
 *   for every other model the same as `pooled`;
 * - `pooled`: the model's own pooling before any head or projection (timm pre-logits): class token,
 *   mean of patch tokens, attention pool (MAP), the class token of DINOv2, with fc_norm where the
 *   model has one; for CLIP, post_layernorm of the class token (transformers' `pooler_output`);
 * - `cls`: the class token after the final norm;
 * - `mean`: the mean of the patch tokens (not class/register tokens) after the final norm;
 * - `tokens`: every token after the final norm, [tokens, dim] row-major.
 */
export type EmbedPooling = 'model' | 'pooled' | 'cls' | 'mean' | 'tokens';

export const EMBED_POOLINGS: readonly EmbedPooling[] = ['model', 'pooled', 'cls', 'mean', 'tokens'];

export interface EmbedOptions extends PrepareOptions {
  pooling?: EmbedPooling;
  /** Scale each vector (each token, with `tokens`) to unit L2 norm. */
  normalize?: boolean;
}

/** An embedder: `embed(images)` → one Float32Array per image. Dispose it when done. */
export class ImageEmbedder extends TaskModel {
  /** Width of one vector with the default pooling (`model`): the projection's width for CLIP with `visual_projection`, else the model's width. */
  get dim(): number {
    return this.projects ? this.config.numClasses : this.config.embedDim;
  }

  /** True when the default embedding is projected (a CLIP checkpoint with `visual_projection`). */
  get projects(): boolean {
    return this.details.head === 'projection';
  }

  /** One vector per image, in order (a [B, H, W, C] tensor counts as B images). */
  async embed(images: ImageInput | readonly ImageInput[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    this.checkPooling(options.pooling ?? 'model');
    const input = await this.preprocess(images, options);
    try {
      return await this.embedPreprocessed(input, options);
    } finally {
      input.dispose();
    }
  }

  /**
   * One vector per image of a batch that is already preprocessed ([B, H, W, C], normalized as the
   * model expects: what `preprocess()` returns, or a .npy made by the model's Python pipeline).
   * The caller keeps and disposes `batch`.
   */
  async embedPreprocessed(batch: tf.Tensor4D, options: Omit<EmbedOptions, 'preprocess'> = {}): Promise<Float32Array[]> {
    const pooling = options.pooling ?? 'model';
    this.checkPooling(pooling);
    const out = this.model.forward(batch, { returnTokens: pooling !== 'model' && pooling !== 'pooled' });
    try {
      const prefix = numPrefixTokens(this.config);
      const pooled = tf.tidy(() => {
        if (pooling === 'model') return this.projects ? out.logits : out.features;
        if (pooling === 'pooled') return out.features;
        const tokens = out.tokens!;
        if (pooling === 'cls') return tf.squeeze(tf.slice(tokens, [0, 0, 0], [-1, 1, -1]), [1]);
        if (pooling === 'mean') return tf.mean(tf.slice(tokens, [0, prefix, 0], [-1, -1, -1]), 1);
        return tokens;
      });
      const rows = pooled.shape[0]!;
      const data = (await pooled.data()) as Float32Array;
      if (pooled !== out.features && pooled !== out.tokens && pooled !== out.logits) pooled.dispose();
      const size = data.length / rows;
      const vectors = Array.from({ length: rows }, (_, i) => Float32Array.from(data.subarray(i * size, (i + 1) * size)));
      if (options.normalize) for (const v of vectors) normalizeRows(v, pooling === 'tokens' ? this.config.embedDim : size);
      return vectors;
    } finally {
      disposeViTOutput(out);
    }
  }

  private checkPooling(pooling: EmbedPooling): void {
    if (!EMBED_POOLINGS.includes(pooling)) throw new ConfigError(`unknown pooling "${String(pooling)}"`, `use one of: ${EMBED_POOLINGS.join(', ')}`);
    if (pooling === 'cls' && !this.config.classToken) throw new ConfigError('this model has no class token', 'use pooling "model" or "mean"');
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
