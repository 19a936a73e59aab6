import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, Module, Rng, dropout, type ViTConfig } from '@vitkit/core';
import { resolveImageSpec, type ImageSizeInput } from './image_batch.js';
import { normal, truncNormal } from './init.js';
import { PatchEmbedding } from './patch_embedding.js';
import { resamplePosEmbed } from './resample_pos_embed.js';

/** The parts of ViTConfig the input layer reads (the family fields default to plain ViT). */
export type InputLayerConfig = Pick<
  ViTConfig,
  'imageSize' | 'patchSize' | 'inChannels' | 'embedDim' | 'classToken' | 'numRegisterTokens' | 'noEmbedClass' | 'dropout'
> &
  Partial<Pick<ViTConfig, 'distilled' | 'preNorm' | 'patchEmbedBias' | 'dynamicImageSize' | 'layerNormEps'>>;

/** InputLayerConfig as users write it (`imageSize` may be one number). */
export type InputLayerConfigInput = Omit<InputLayerConfig, 'imageSize'> & { imageSize: ImageSizeInput };

export interface InputLayerOptions {
  /** Seed for the initial weights and for the default dropout Rng (random when omitted). */
  seed?: number;
}

export interface InputLayerForwardOptions {
  /** Randomness for dropout in training mode; defaults to the layer's own seeded Rng. */
  rng?: Rng;
}

/** Resampled position embeddings kept per input grid (eval mode, dynamic image size). */
const MAX_CACHED_GRIDS = 8;

/**
 * Everything before the first encoder block, as timm's VisionTransformer does
 * it: patch embedding, then class token, distillation token (DeiT distilled)
 * and register tokens in front, then position embeddings, then dropout
 * (training mode only), then `norm_pre` (CLIP's pre-norm).
 *
 * timm `_pos_embed`: normally the position embedding covers every token
 * (prefix + patches) and is added after concatenation; with `noEmbedClass` it
 * covers the patches only and is added before the prefix tokens are put in front.
 *
 * With `dynamicImageSize` any input whose sides are multiples of the patch size
 * is accepted, and the patch part of `pos_embed` is resampled from the grid of
 * `imageSize` to the input's grid as timm's `resample_abs_pos_embed` does it
 * (bicubic, antialiased, align_corners false; prefix positions kept as they are).
 * In eval mode, outside gradient recording, the resampled embedding is cached per
 * grid (dropped when `pos_embed` changes, freed by `dispose`); in training mode it
 * is recomputed each pass so that gradients reach `pos_embed`.
 *
 * Parameters: `cls_token` [1,1,D], `dist_token` [1,1,D], `reg_token` [1,R,D],
 * `pos_embed` [1, prefix+N or N, D], `patch_embed.proj.{weight,bias}`, `norm_pre.*`.
 */
export class ViTInputLayer extends Module {
  readonly config: InputLayerConfig;
  readonly patchEmbed: PatchEmbedding;
  readonly clsToken: tf.Variable | undefined;
  readonly distToken: tf.Variable | undefined;
  readonly regToken: tf.Variable | undefined;
  readonly posEmbed: tf.Variable;
  readonly normPre: LayerNorm | undefined;
  private readonly rng: Rng;
  private readonly posCache = new Map<string, tf.Tensor>();
  /** The pos_embed data the cache was computed from (Variable.assign replaces it). */
  private posCacheSource: object | undefined;

  constructor(configInput: InputLayerConfigInput, options: InputLayerOptions = {}) {
    super();
    const config: InputLayerConfig = { ...configInput, imageSize: resolveImageSpec(configInput).imageSize };
    this.config = config;
    const rng = Rng.fromSeed(options.seed);
    const d = config.embedDim;
    // Registration order follows timm's state_dict: cls_token, dist_token, reg_token, pos_embed, patch_embed.*, norm_pre.*.
    // timm draws the tokens from normal(std 1e-6): tiny but not zero, so they are not all identical.
    this.clsToken = config.classToken ? this.addParameter('cls_token', normal([1, 1, d], 1e-6, rng), { decay: false }) : undefined;
    // DeiT: trunc_normal(std 0.02).
    this.distToken = config.distilled ? this.addParameter('dist_token', truncNormal([1, 1, d], 0.02, rng), { decay: false }) : undefined;
    this.regToken =
      config.numRegisterTokens > 0
        ? this.addParameter('reg_token', normal([1, config.numRegisterTokens, d], 1e-6, rng), { decay: false })
        : undefined;
    const numPatches = (config.imageSize[0] / config.patchSize) * (config.imageSize[1] / config.patchSize);
    const embedLen = config.noEmbedClass ? numPatches : numPatches + this.numPrefixTokens;
    this.posEmbed = this.addParameter('pos_embed', truncNormal([1, embedLen, d], 0.02, rng), { decay: false });
    this.patchEmbed = this.addModule(
      'patch_embed',
      new PatchEmbedding(
        { ...config, bias: config.patchEmbedBias ?? !config.preNorm, dynamicImageSize: config.dynamicImageSize ?? false },
        { seed: rng.seed() },
      ),
    );
    if (config.preNorm) this.normPre = this.addModule('norm_pre', new LayerNorm(d, config.layerNormEps ?? 1e-6));
    this.rng = new Rng(rng.seed());
  }

  /** Class token, distillation token and register tokens. */
  get numPrefixTokens(): number {
    return (this.config.classToken ? 1 : 0) + (this.config.distilled ? 1 : 0) + this.config.numRegisterTokens;
  }

  /** Tokens per image after this layer, at the configured image size. */
  get numTokens(): number {
    return this.numPrefixTokens + this.patchEmbed.numPatches;
  }

  /**
   * The position embedding for a patch grid: `pos_embed` itself for the configured grid,
   * else (dynamic image size) resampled as timm's resample_abs_pos_embed. Cached tensors
   * belong to the layer; call inside a tidy.
   */
  positionEmbedding(grid: [number, number]): tf.Tensor {
    const [gh, gw] = this.patchEmbed.grid;
    // timm returns pos_embed unchanged when the token count matches and the new grid is square.
    if ((grid[0] === gh && grid[1] === gw) || (grid[0] * grid[1] === gh * gw && grid[0] === grid[1])) return this.posEmbed;
    const resample = (): tf.Tensor =>
      resamplePosEmbed(this.posEmbed, grid, { numPrefixTokens: this.config.noEmbedClass ? 0 : this.numPrefixTokens, oldGrid: [gh, gw] });
    // Gradients must reach pos_embed: no cache while training or recording gradients.
    if (this.training || tf.engine().state.gradientDepth > 0) return resample();
    const source = (this.posEmbed as unknown as { dataId: object }).dataId;
    if (source !== this.posCacheSource) {
      this.clearPositionCache();
      this.posCacheSource = source;
    }
    const key = `${grid[0]}x${grid[1]}`;
    let cached = this.posCache.get(key);
    if (!cached) {
      if (this.posCache.size >= MAX_CACHED_GRIDS) {
        const [oldest, t] = this.posCache.entries().next().value as [string, tf.Tensor];
        t.dispose();
        this.posCache.delete(oldest);
      }
      cached = tf.keep(resample());
      this.posCache.set(key, cached);
    }
    return cached;
  }

  /** Frees the resampled position embeddings kept for dynamic image sizes. */
  clearPositionCache(): void {
    for (const t of this.posCache.values()) t.dispose();
    this.posCache.clear();
  }

  /** Images [B, H, W, C] (NHWC float32) → tokens [B, prefix + N, D]. */
  forward(x: tf.Tensor, options: InputLayerForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const patches = this.patchEmbed.forward(x);
      const b = patches.shape[0];
      const p = this.config.patchSize;
      const pos = this.positionEmbedding([x.shape[1]! / p, x.shape[2]! / p]);
      const prefix: tf.Tensor[] = [];
      for (const token of [this.clsToken, this.distToken, this.regToken]) {
        if (token) prefix.push(tf.tile(token, [b, 1, 1]));
      }
      let tokens: tf.Tensor;
      if (this.config.noEmbedClass) {
        const placed = tf.add(patches, pos);
        tokens = prefix.length > 0 ? tf.concat([...prefix, placed], 1) : placed;
      } else {
        const all = prefix.length > 0 ? tf.concat([...prefix, patches], 1) : patches;
        tokens = tf.add(all, pos);
      }
      if (this.training && this.config.dropout > 0) tokens = dropout(tokens, this.config.dropout, options.rng ?? this.rng);
      if (this.normPre) tokens = this.normPre.forward(tokens);
      return tokens as tf.Tensor3D;
    });
  }

  override dispose(): void {
    this.clearPositionCache();
    super.dispose();
  }
}
