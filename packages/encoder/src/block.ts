import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, Module, Rng, dropPath, type Activation } from '@vitkit/core';
import { Attention, type AttentionOutput } from './attention.js';
import { LayerScale } from './layer_scale.js';
import { Mlp } from './mlp.js';

export interface BlockConfig {
  dim: number;
  numHeads: number;
  mlpDim: number;
  qkvBias?: boolean;
  layerNormEps?: number;
  /** LayerScale init (timm `init_values`): adds `ls1`, `ls2`; null/undefined for none. */
  layerScaleInit?: number | null;
  activation?: Activation;
  qkNorm?: boolean;
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
 *   x = x + dropPath(ls1(attn(norm1(x))));  x = x + dropPath(ls2(mlp(norm2(x))))
 * (ls1/ls2: LayerScale when `layerScaleInit` is set, identity otherwise).
 * Parameters: `norm1.*`, `attn.*`, `ls1.gamma`, `norm2.*`, `mlp.fc1.*`, `mlp.fc2.*`, `ls2.gamma`.
 */
export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly ls1: LayerScale | undefined;
  readonly ls2: LayerScale | undefined;
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
        qkNorm: config.qkNorm ?? false,
        normEps: eps,
        attnDrop: config.attnDrop ?? 0,
        projDrop: config.drop ?? 0,
        seed: rng.seed(),
      }),
    );
    const ls = config.layerScaleInit ?? null;
    if (ls !== null) this.ls1 = this.addModule('ls1', new LayerScale(config.dim, ls));
    this.norm2 = this.addModule('norm2', new LayerNorm(config.dim, eps));
    this.mlp = this.addModule('mlp', new Mlp(config.dim, config.mlpDim, { drop: config.drop ?? 0, activation: config.activation ?? 'gelu', seed: rng.seed() }));
    if (ls !== null) this.ls2 = this.addModule('ls2', new LayerScale(config.dim, ls));
    this.rng = new Rng(rng.seed());
  }

  /** Tokens [B, T, D] → [B, T, D], plus this block's attention probabilities when asked for. */
  forward(x: tf.Tensor, options: BlockForwardOptions = {}): AttentionOutput {
    const rng = options.rng ?? this.rng;
    const rate = this.training ? this.dropPath : 0;
    return tf.tidy(() => {
      const a = this.attn.forward(this.norm1.forward(x) as tf.Tensor3D, { rng, returnAttention: options.returnAttention ?? false });
      const scale = (y: tf.Tensor, ls: LayerScale | undefined): tf.Tensor => (ls ? ls.forward(y) : y);
      const h = tf.add(x, dropPath(scale(a.output, this.ls1), rate, rng));
      const output = tf.add(h, dropPath(scale(this.mlp.forward(this.norm2.forward(h), { rng }), this.ls2), rate, rng)) as tf.Tensor3D;
      return a.attention ? { output, attention: a.attention } : { output };
    });
  }
}
