import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, LayerNorm, Linear, Module, ShapeError, dropout, fusedAttention, fusedAttentionContext, Rng } from '@vitkit/core';
import { scaledDotProduct } from './scaled_dot_product.js';

export interface AttentionOptions {
  qkvBias?: boolean;
  /** LayerNorm over each head's queries and keys after the qkv split (timm `qk_norm`: `q_norm`, `k_norm`). */
  qkNorm?: boolean;
  /** Epsilon of the q/k norms (the model's LayerNorm eps). */
  normEps?: number;
  /** Dropout on attention probabilities (training mode only). */
  attnDrop?: number;
  /** Dropout after the output projection (training mode only). */
  projDrop?: number;
  seed?: number;
}

export interface AttentionForwardOptions {
  rng?: Rng;
  returnAttention?: boolean;
}

export interface AttentionOutput {
  output: tf.Tensor3D;
  /** [B, heads, T, T] softmax probabilities (before dropout), when asked for. */
  attention?: tf.Tensor4D;
}

/** The context-only fused result (no probabilities asked for), or undefined. */
function withoutProbs(context: tf.Tensor2D | undefined): { context: tf.Tensor2D; probs?: tf.Tensor4D } | undefined {
  return context && { context };
}

/**
 * timm's multi-head self-attention: one fused `qkv` Linear (output rows q|k|v,
 * each split into heads), q scaled by Dh^-0.5, softmax(q k^T) v, then `proj`.
 * Linear layers run on [B*T, D] so they stay plain 2-D matMuls.
 *
 * With `qkNorm`, q and k are LayerNorm-ed per head right after the split (timm `qk_norm`).
 *
 * Parameters: `qkv.{weight,bias}` (torch [3D, D]), `q_norm.*`, `k_norm.*` [Dh] (qkNorm), `proj.{weight,bias}`.
 */
export class Attention extends Module {
  readonly dim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly qkv: Linear;
  readonly qNorm: LayerNorm | undefined;
  readonly kNorm: LayerNorm | undefined;
  readonly proj: Linear;
  readonly attnDrop: number;
  readonly projDrop: number;
  private readonly rng: Rng;

  constructor(dim: number, numHeads: number, options: AttentionOptions = {}) {
    super();
    if (dim % numHeads !== 0) throw new ConfigError(`attention width ${dim} is not divisible by ${numHeads} heads`, 'pick a head count that divides the width');
    this.dim = dim;
    this.numHeads = numHeads;
    this.headDim = dim / numHeads;
    this.scale = this.headDim ** -0.5;
    this.attnDrop = options.attnDrop ?? 0;
    this.projDrop = options.projDrop ?? 0;
    const rng = Rng.fromSeed(options.seed);
    this.qkv = this.addModule('qkv', new Linear(dim, dim * 3, { bias: options.qkvBias ?? true, seed: rng.seed() }));
    if (options.qkNorm) {
      this.qNorm = this.addModule('q_norm', new LayerNorm(this.headDim, options.normEps ?? 1e-6));
      this.kNorm = this.addModule('k_norm', new LayerNorm(this.headDim, options.normEps ?? 1e-6));
    }
    this.proj = this.addModule('proj', new Linear(dim, dim, { seed: rng.seed() }));
    this.rng = new Rng(rng.seed());
  }

  /** qk_norm: LayerNorm over each head's slice of q and k in the fused [B*T, 3D] projection. */
  private normalizeQK(qkv: tf.Tensor2D, rows: number): tf.Tensor2D {
    const [q, k, v] = tf.split(qkv, 3, 1);
    const perHead = (m: tf.Tensor, norm: LayerNorm): tf.Tensor => tf.reshape(norm.forward(tf.reshape(m, [rows, this.numHeads, this.headDim])), [rows, this.dim]);
    return tf.concat([perHead(q!, this.qNorm!), perHead(k!, this.kNorm!), v!], 1) as tf.Tensor2D;
  }

  /**
   * softmax(q k^T scale) v from the fused projection as tfjs ops (backends
   * without the fused attention kernel, and attention dropout): heads split
   * out and transposed, two batched products, merged back.
   */
  private composite(qkv: tf.Tensor2D, b: number, t: number, drop: { rng?: Rng; dropRate?: number }): { context: tf.Tensor2D; probs?: tf.Tensor4D } {
    const h = this.numHeads;
    const dh = this.headDim;
    const [q2, k2, v2] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    // [B*T, D] -> [B, T, H, Dh] -> [B, H, T, Dh] (k: [B, H, Dh, T]) -> merged batch*heads.
    const heads = (m: tf.Tensor2D, perm: number[], last: [number, number]): tf.Tensor3D =>
      tf.reshape(tf.transpose(tf.reshape(m, [b, t, h, dh]), perm), [b * h, ...last]);
    const q = tf.mul(heads(q2, [0, 2, 1, 3], [t, dh]), this.scale) as tf.Tensor3D;
    const kT = heads(k2, [0, 2, 3, 1], [dh, t]);
    const v = heads(v2, [0, 2, 1, 3], [t, dh]);
    const { probs, context } = scaledDotProduct(q, kT, v, drop);
    // [BH, T, Dh] -> [B, T, H, Dh] -> [B*T, D]
    const merged = tf.reshape(tf.transpose(tf.reshape(context, [b, h, t, dh]), [0, 2, 1, 3]), [b * t, this.dim]) as tf.Tensor2D;
    return { context: merged, probs: tf.reshape(probs, [b, h, t, t]) as tf.Tensor4D };
  }

  /** Tokens [B, T, D] → [B, T, D]. */
  forward(x: tf.Tensor, options: AttentionForwardOptions = {}): AttentionOutput {
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new ShapeError(`attention expects tokens [batch, tokens, ${this.dim}], got [${x.shape.join(', ')}]`);
    }
    const rng = options.rng ?? this.rng;
    return tf.tidy(() => {
      const [b, t, d] = x.shape as [number, number, number];
      let qkv = this.qkv.forward(tf.reshape(x, [b * t, d])) as tf.Tensor2D;
      if (this.qNorm && this.kNorm) qkv = this.normalizeQK(qkv, b * t);
      const training = this.training;
      // Attention dropout needs the composite ops (the fused kernel has none).
      const dropping = training && this.attnDrop > 0;
      const fusedOptions = { tokens: t, heads: this.numHeads, scale: this.scale };
      const fused = dropping
        ? undefined
        : options.returnAttention
          ? fusedAttention(qkv, fusedOptions)
          : withoutProbs(fusedAttentionContext(qkv, fusedOptions));
      const { context: merged, probs } = fused ?? this.composite(qkv, b, t, dropping ? { rng, dropRate: this.attnDrop } : {});
      let out = this.proj.forward(merged);
      if (training && this.projDrop > 0) out = dropout(out, this.projDrop, rng);
      const output = tf.reshape(out, [b, t, d]) as tf.Tensor3D;
      return options.returnAttention ? { output, attention: probs! } : { output };
    });
  }
}
