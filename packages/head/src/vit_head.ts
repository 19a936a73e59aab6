import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, LayerNorm, Linear, Module, Rng, ShapeError, numPrefixTokens, type ViTConfig } from '@vitkit/core';
import { AttentionPoolLatent } from './attention_pool.js';
import { poolTokens } from './pooling.js';

/**
 * The parts of ViTConfig the head reads. The family fields default to a plain ViT
 * (finalNorm on, fcNorm for mean pooling, not distilled); `map` pooling also needs
 * numHeads, mlpDim and activation.
 */
export type HeadConfig = Pick<ViTConfig, 'embedDim' | 'numClasses' | 'layerNormEps' | 'pooling' | 'classToken' | 'numRegisterTokens'> &
  Partial<Pick<ViTConfig, 'distilled' | 'finalNorm' | 'fcNorm' | 'numHeads' | 'mlpDim' | 'activation'>>;

export interface HeadOptions {
  /** Seed for the classifier's initial weights (random when omitted). */
  seed?: number;
}

export interface HeadOutput {
  /**
   * Classifier output [B, numClasses]; the same tensor as `features` when numClasses is 0.
   * Distilled models: the mean of `head` (class token) and `head_dist` (distillation token),
   * in training mode too (timm without distilled_training). With pooling `none`: [B, T, ·].
   */
  logits: tf.Tensor2D;
  /**
   * The classifier's input [B, D]: the pooled vector (after fc_norm when there is one).
   * Distilled models: the mean of the class and distillation tokens (timm pre_logits).
   * With pooling `none`: all tokens [B, T, D].
   */
  features: tf.Tensor2D;
  /**
   * All tokens after the final norm [B, T, D] (timm's `forward_features`
   * output). Without `norm` (fc_norm or finalNorm off) this is a copy of the input tokens.
   */
  normed: tf.Tensor3D;
  /** Distilled models in training mode: `head` on the class token [B, numClasses]. */
  clsLogits?: tf.Tensor2D;
  /** Distilled models in training mode: `head_dist` on the distillation token [B, numClasses]. */
  distLogits?: tf.Tensor2D;
}

/**
 * timm's head: final LayerNorm `norm` over all tokens → pool (class token, mean of the
 * patch tokens, attention pool `attn_pool` over the patch tokens, or none) → `fc_norm`
 * (instead of `norm`, on the pooled vector) → Linear `head` (absent when numClasses is 0:
 * the head then returns the pooled features). Distilled models (DeiT) also have
 * `head_dist` on the distillation token. Registration order is timm's state-dict order:
 * norm, attn_pool, fc_norm, head, head_dist.
 */
export class ViTHead extends Module {
  readonly config: HeadConfig;
  readonly norm: LayerNorm | undefined;
  readonly attnPool: AttentionPoolLatent | undefined;
  readonly fcNorm: LayerNorm | undefined;
  readonly head: Linear | undefined;
  readonly headDist: Linear | undefined;

  constructor(config: HeadConfig, options: HeadOptions = {}) {
    super();
    const finalNorm = config.finalNorm ?? true;
    const useFcNorm = config.fcNorm ?? (finalNorm && config.pooling === 'mean');
    this.config = { ...config, finalNorm, fcNorm: useFcNorm, distilled: config.distilled ?? false };
    if (this.config.distilled && useFcNorm) throw new ConfigError('a distilled head has no fc_norm (timm VisionTransformerDistilled pools the raw tokens)', 'set fcNorm false');
    const eps = config.layerNormEps;
    const d = config.embedDim;
    const rng = Rng.fromSeed(options.seed);
    const headSeed = rng.seed();
    if (finalNorm && !useFcNorm) this.norm = this.addModule('norm', new LayerNorm(d, eps));
    if (config.pooling === 'map') {
      const { numHeads, mlpDim } = config;
      if (numHeads === undefined || mlpDim === undefined) throw new ConfigError('map pooling needs numHeads and mlpDim in the head config');
      this.attnPool = this.addModule(
        'attn_pool',
        new AttentionPoolLatent({ embedDim: d, numHeads, mlpDim, activation: config.activation ?? 'gelu', layerNormEps: eps }, { seed: rng.seed() }),
      );
    }
    if (useFcNorm) this.fcNorm = this.addModule('fc_norm', new LayerNorm(d, eps));
    if (config.numClasses > 0) {
      this.head = this.addModule('head', new Linear(d, config.numClasses, { seed: headSeed }));
      if (this.config.distilled) this.headDist = this.addModule('head_dist', new Linear(d, config.numClasses, { seed: rng.seed() }));
    }
  }

  get numPrefixTokens(): number {
    return numPrefixTokens(this.config);
  }

  /** Encoder output [B, T, D] → logits and features. Every tensor in the result belongs to the caller. */
  forward(x: tf.Tensor3D): HeadOutput {
    const d = this.config.embedDim;
    if (x.rank !== 3 || x.shape[2] !== d) throw new ShapeError(`head expects tokens [batch, tokens, ${d}], got [${x.shape.join(', ')}]`);
    if (x.shape[1] <= this.numPrefixTokens) {
      throw new ShapeError(`head expects more than ${this.numPrefixTokens} tokens (prefix tokens plus patches), got ${x.shape[1]}`);
    }
    return tf.tidy((): tf.TensorContainer => {
      const normed = (this.norm ? this.norm.forward(x) : x.clone()) as tf.Tensor3D;
      if (this.config.distilled) return this.distilledOutput(normed) as unknown as tf.TensorContainer;
      const [b, t] = normed.shape;
      const prefix = this.numPrefixTokens;
      let features: tf.Tensor;
      if (this.attnPool) features = this.attnPool.forward(tf.slice(normed, [0, prefix, 0], [b, t - prefix, d]) as tf.Tensor3D);
      else if (this.config.pooling === 'none') features = normed;
      else features = poolTokens(normed, this.config.pooling, prefix);
      if (this.fcNorm) features = this.fcNorm.forward(features);
      const logits = this.head ? this.head.forward(features) : features;
      return { logits, features, normed };
    }) as unknown as HeadOutput;
  }

  /** timm VisionTransformerDistilled.forward_head: class token → head, distillation token → head_dist. */
  private distilledOutput(normed: tf.Tensor3D): HeadOutput {
    const [b, , d] = normed.shape;
    const token = (i: number): tf.Tensor2D => tf.reshape(tf.slice(normed, [0, i, 0], [b, 1, d]), [b, d]);
    const cls = token(0);
    const dist = token(1);
    const features = tf.div(tf.add(cls, dist), 2) as tf.Tensor2D;
    if (!this.head || !this.headDist) return { logits: features, features, normed };
    const clsLogits = this.head.forward(cls) as tf.Tensor2D;
    const distLogits = this.headDist.forward(dist) as tf.Tensor2D;
    const logits = tf.div(tf.add(clsLogits, distLogits), 2) as tf.Tensor2D;
    return this.training ? { logits, features, normed, clsLogits, distLogits } : { logits, features, normed };
  }
}
