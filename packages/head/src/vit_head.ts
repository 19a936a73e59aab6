import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, Linear, Module, Rng, ShapeError, numPrefixTokens, type ViTConfig } from '@vitkit/core';
import { poolTokens } from './pooling.js';

/** The parts of ViTConfig the head reads. */
export type HeadConfig = Pick<ViTConfig, 'embedDim' | 'numClasses' | 'layerNormEps' | 'pooling' | 'classToken' | 'numRegisterTokens'>;

export interface HeadOptions {
  /** Seed for the classifier's initial weights (random when omitted). */
  seed?: number;
}

export interface HeadOutput {
  /** Classifier output [B, numClasses]; the same tensor as `features` when numClasses is 0. */
  logits: tf.Tensor2D;
  /** Pooled (and, for mean pooling, fc_norm-ed) features [B, D]: the classifier's input. */
  features: tf.Tensor2D;
  /**
   * All tokens after the final norm [B, T, D] (timm's `forward_features`
   * output). With mean pooling timm has no final norm (it normalizes after
   * pooling with `fc_norm`), so this is a copy of the input tokens.
   */
  normed: tf.Tensor3D;
}

/**
 * timm's head: final LayerNorm `norm` (token pooling) → pool → `fc_norm`
 * (mean pooling only, after averaging) → Linear `head` (absent when
 * numClasses is 0, the head then returns the pooled features).
 */
export class ViTHead extends Module {
  readonly config: HeadConfig;
  readonly norm: LayerNorm | undefined;
  readonly fcNorm: LayerNorm | undefined;
  readonly head: Linear | undefined;

  constructor(config: HeadConfig, options: HeadOptions = {}) {
    super();
    this.config = { ...config };
    const eps = config.layerNormEps;
    if (config.pooling === 'token') this.norm = this.addModule('norm', new LayerNorm(config.embedDim, eps));
    else this.fcNorm = this.addModule('fc_norm', new LayerNorm(config.embedDim, eps));
    if (config.numClasses > 0) {
      const seed = Rng.fromSeed(options.seed).seed();
      this.head = this.addModule('head', new Linear(config.embedDim, config.numClasses, { seed }));
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
    return tf.tidy(() => {
      const normed = (this.norm ? this.norm.forward(x) : x.clone()) as tf.Tensor3D;
      let features = poolTokens(normed, this.config.pooling, this.numPrefixTokens);
      if (this.fcNorm) features = this.fcNorm.forward(features) as tf.Tensor2D;
      const logits = this.head ? (this.head.forward(features) as tf.Tensor2D) : features;
      return { logits, features, normed };
    });
  }
}
