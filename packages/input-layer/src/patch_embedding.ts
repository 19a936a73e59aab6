import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Module, Rng, linear } from '@vitkit/core';
import { assertImageBatch, resolveImageSpec, type ImageBatchSpec, type ImageSizeInput } from './image_batch.js';
import { symmetricUniform } from './init.js';

export interface PatchEmbeddingConfig extends ImageBatchSpec {
  embedDim: number;
  /** Bias in the projection (default true; timm drops it under `pre_norm`). */
  bias?: boolean;
}

/** PatchEmbeddingConfig as users write it (`imageSize` may be one number). */
export type PatchEmbeddingConfigInput = Omit<PatchEmbeddingConfig, 'imageSize'> & { imageSize: ImageSizeInput };

export interface PatchEmbeddingOptions {
  /** Seed for the initial weights (random when omitted). */
  seed?: number;
}

/**
 * timm's `PatchEmbed`: a Conv2d with kernel = stride = patch size, flattened
 * to tokens in row-major patch order. Because the patches do not overlap, the
 * convolution is a reshape/transpose that lays each patch out as one row
 * (ph, pw, c) followed by a plain 2-D matMul with a [P*P*C, D] weight. That
 * avoids conv2d (whose gradient the wasm backend lacks) and hits the fast
 * matMul path everywhere (`linear`: one 2-D product with the bias fused in).
 *
 * With `dynamicImageSize`, any input whose sides are multiples of the patch
 * size is embedded (the grid follows the input).
 *
 * Parameters: `proj.weight` (torch [D, C, P, P]), `proj.bias` [D] (unless `bias` is false).
 */
export class PatchEmbedding extends Module {
  readonly config: PatchEmbeddingConfig;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(config: PatchEmbeddingConfigInput, options: PatchEmbeddingOptions = {}) {
    super();
    if (!Number.isInteger(config.embedDim) || config.embedDim <= 0) {
      throw new ConfigError(`embedDim must be a positive integer, got ${config.embedDim}`, 'fix the value in your config');
    }
    this.config = { ...resolveImageSpec(config), embedDim: config.embedDim, bias: config.bias ?? true };
    const { patchSize: p, inChannels: c, embedDim: d } = this.config;
    const fanIn = p * p * c;
    const rng = Rng.fromSeed(options.seed);
    // PyTorch's default Conv2d init (kaiming_uniform with a = sqrt(5)), which timm keeps for the patch projection.
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.addParameter('proj.weight', symmetricUniform([fanIn, d], bound, rng), {
      layout: 'patch',
      torchShape: [d, c, p, p],
    });
    const bias = symmetricUniform([d], bound, rng);
    // Drawn either way, so a seed gives the same weight with or without the bias.
    if (this.config.bias) this.bias = this.addParameter('proj.bias', bias, { decay: false });
    else bias.dispose();
  }

  /** Patch grid [rows, cols]. */
  get grid(): [number, number] {
    return [this.config.imageSize[0] / this.config.patchSize, this.config.imageSize[1] / this.config.patchSize];
  }

  get numPatches(): number {
    const [gh, gw] = this.grid;
    return gh * gw;
  }

  /** Images [B, H, W, C] → patch tokens [B, N, D], patches in row-major order. */
  forward(x: tf.Tensor): tf.Tensor3D {
    assertImageBatch(x, this.config);
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape as [number, number, number, number];
      const p = this.config.patchSize;
      const gh = h / p;
      const gw = w / p;
      // [B, H, W, C] -> [B*gh, P, gw, P*C] -> [B*gh, gw, P, P*C]: each patch becomes P rows of (pw, c).
      const rows = tf.transpose(tf.reshape(x, [b * gh, p, gw, p * c]), [0, 2, 1, 3]);
      const patches = tf.reshape(rows, [b * gh * gw, p * p * c]);
      const tokens = linear(patches, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D | undefined);
      return tf.reshape(tokens, [b, gh * gw, this.config.embedDim]);
    });
  }
}
