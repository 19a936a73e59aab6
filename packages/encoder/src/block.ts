import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, Module, Rng, dropPath } from '@vitkit/core';
import { Attention, type AttentionOutput } from './attention.js';
import { Mlp } from './mlp.js';

export interface BlockConfig {
  dim: number;
  numHeads: number;
  mlpDim: number;
  qkvBias?: boolean;
  layerNormEps?: number;
  /** Dropout after the attention projection and inside the MLP. */
  drop?: number;
  attnDrop?: number;
  /** Stochastic-depth rate of this block's two residual branches. */
  dropPath?: number;
}

export interface BlockForwardOptions {
  rng?: Rng;
  returnAttention?: boolean;
}

/**
 * timm's pre-norm transformer `Block`:
 *   x = x + dropPath(attn(norm1(x)));  x = x + dropPath(mlp(norm2(x)))
 * Parameters: `norm1.*`, `attn.qkv.*`, `attn.proj.*`, `norm2.*`, `mlp.fc1.*`, `mlp.fc2.*`.
 */
export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly dropPath: number;
  private readonly rng: Rng;

  constructor(config: BlockConfig, options: { seed?: number } = {}) {
    super();
    const eps = config.layerNormEps ?? 1e-6;
    const rng = Rng.fromSeed(options.seed);
    this.dropPath = config.dropPath ?? 0;
    this.norm1 = this.addModule('norm1', new LayerNorm(config.dim, eps));
    this.attn = this.addModule(
      'attn',
      new Attention(config.dim, config.numHeads, {
        qkvBias: config.qkvBias ?? true,
        attnDrop: config.attnDrop ?? 0,
        projDrop: config.drop ?? 0,
        seed: rng.seed(),
      }),
    );
    this.norm2 = this.addModule('norm2', new LayerNorm(config.dim, eps));
    this.mlp = this.addModule('mlp', new Mlp(config.dim, config.mlpDim, { drop: config.drop ?? 0, seed: rng.seed() }));
    this.rng = new Rng(rng.seed());
  }

  /** Tokens [B, T, D] → [B, T, D], plus this block's attention probabilities when asked for. */
  forward(x: tf.Tensor, options: BlockForwardOptions = {}): AttentionOutput {
    const rng = options.rng ?? this.rng;
    const rate = this.training ? this.dropPath : 0;
    return tf.tidy(() => {
      const a = this.attn.forward(this.norm1.forward(x) as tf.Tensor3D, { rng, returnAttention: options.returnAttention ?? false });
      const h = tf.add(x, dropPath(a.output, rate, rng));
      const output = tf.add(h, dropPath(this.mlp.forward(this.norm2.forward(h), { rng }), rate, rng)) as tf.Tensor3D;
      return a.attention ? { output, attention: a.attention } : { output };
    });
  }
}
