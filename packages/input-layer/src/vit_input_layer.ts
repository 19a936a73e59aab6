import * as tf from '@tensorflow/tfjs-core';
import { Module, Rng, dropout, type ViTConfig } from '@vitkit/core';
import { resolveImageSpec, type ImageSizeInput } from './image_batch.js';
import { normal, truncNormal } from './init.js';
import { PatchEmbedding } from './patch_embedding.js';

/** The parts of ViTConfig the input layer reads. */
export type InputLayerConfig = Pick<
  ViTConfig,
  'imageSize' | 'patchSize' | 'inChannels' | 'embedDim' | 'classToken' | 'numRegisterTokens' | 'noEmbedClass' | 'dropout'
>;

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

/**
 * Everything before the first encoder block, as timm's VisionTransformer does
 * it: patch embedding, then class token and register tokens in front, then
 * position embeddings, then dropout (training mode only).
 *
 * timm `_pos_embed`: normally the position embedding covers every token
 * (prefix + patches) and is added after concatenation; with `noEmbedClass` it
 * covers the patches only and is added before the prefix tokens are put in front.
 *
 * Parameters: `cls_token` [1,1,D], `reg_token` [1,R,D], `pos_embed` [1, prefix+N or N, D],
 * `patch_embed.proj.{weight,bias}`.
 */
export class ViTInputLayer extends Module {
  readonly config: InputLayerConfig;
  readonly patchEmbed: PatchEmbedding;
  readonly clsToken: tf.Variable | undefined;
  readonly regToken: tf.Variable | undefined;
  readonly posEmbed: tf.Variable;
  private readonly rng: Rng;

  constructor(configInput: InputLayerConfigInput, options: InputLayerOptions = {}) {
    super();
    const config: InputLayerConfig = { ...configInput, imageSize: resolveImageSpec(configInput).imageSize };
    this.config = config;
    const rng = Rng.fromSeed(options.seed);
    const d = config.embedDim;
    // Registration order follows timm's state_dict: cls_token, reg_token, pos_embed, patch_embed.*.
    // timm draws the tokens from normal(std 1e-6): tiny but not zero, so they are not all identical.
    this.clsToken = config.classToken ? this.addParameter('cls_token', normal([1, 1, d], 1e-6, rng), { decay: false }) : undefined;
    this.regToken =
      config.numRegisterTokens > 0
        ? this.addParameter('reg_token', normal([1, config.numRegisterTokens, d], 1e-6, rng), { decay: false })
        : undefined;
    const numPatches = (config.imageSize[0] / config.patchSize) * (config.imageSize[1] / config.patchSize);
    const embedLen = config.noEmbedClass ? numPatches : numPatches + this.numPrefixTokens;
    this.posEmbed = this.addParameter('pos_embed', truncNormal([1, embedLen, d], 0.02, rng), { decay: false });
    this.patchEmbed = this.addModule('patch_embed', new PatchEmbedding(config, { seed: rng.seed() }));
    this.rng = new Rng(rng.seed());
  }

  /** Class token plus register tokens. */
  get numPrefixTokens(): number {
    return (this.config.classToken ? 1 : 0) + this.config.numRegisterTokens;
  }

  /** Tokens per image after this layer. */
  get numTokens(): number {
    return this.numPrefixTokens + this.patchEmbed.numPatches;
  }

  /** Images [B, H, W, C] (NHWC float32) → tokens [B, prefix + N, D]. */
  forward(x: tf.Tensor, options: InputLayerForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const patches = this.patchEmbed.forward(x);
      const b = patches.shape[0];
      const prefix: tf.Tensor[] = [];
      for (const token of [this.clsToken, this.regToken]) {
        if (token) prefix.push(tf.tile(token, [b, 1, 1]));
      }
      let tokens: tf.Tensor;
      if (this.config.noEmbedClass) {
        const placed = tf.add(patches, this.posEmbed);
        tokens = prefix.length > 0 ? tf.concat([...prefix, placed], 1) : placed;
      } else {
        const all = prefix.length > 0 ? tf.concat([...prefix, patches], 1) : patches;
        tokens = tf.add(all, this.posEmbed);
      }
      if (this.training && this.config.dropout > 0) tokens = dropout(tokens, this.config.dropout, options.rng ?? this.rng);
      return tokens as tf.Tensor3D;
    });
  }
}
