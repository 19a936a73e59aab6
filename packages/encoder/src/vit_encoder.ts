import * as tf from '@tensorflow/tfjs-core';
import { Module, Rng, ShapeError, type ViTConfig } from '@vitkit/core';
import { Block } from './block.js';

/** The parts of ViTConfig the encoder reads. */
export type EncoderConfig = Pick<
  ViTConfig,
  'embedDim' | 'depth' | 'numHeads' | 'mlpDim' | 'qkvBias' | 'layerNormEps' | 'dropout' | 'attentionDropout' | 'dropPath'
> &
  Partial<Pick<ViTConfig, 'layerScaleInit' | 'activation' | 'qkNorm'>
>;

export interface EncoderOptions {
  /** Seed for the initial weights and for the default dropout Rng (random when omitted). */
  seed?: number;
}

export interface EncoderForwardOptions {
  /** Randomness for dropout and stochastic depth in training mode; defaults to the encoder's own seeded Rng. */
  rng?: Rng;
  /** Also return every block's attention probabilities [B, heads, T, T]. */
  returnAttention?: boolean;
  /** Also return every block's output [B, T, D]. */
  returnHiddenStates?: boolean;
}

export interface EncoderOutput {
  /** The last block's output [B, T, D] (before the final norm). */
  output: tf.Tensor3D;
  attentions?: tf.Tensor4D[];
  /** One per block; the last one is the same tensor as `output`. */
  hiddenStates?: tf.Tensor3D[];
}

/** Stochastic-depth rate of each block: linear from 0 (first) to `max` (last), as timm's torch.linspace. */
export function dropPathRates(depth: number, max: number): number[] {
  return Array.from({ length: depth }, (_, i) => (depth === 1 ? 0 : (max * i) / (depth - 1)));
}

/**
 * The stack of `depth` transformer blocks: timm's `blocks` nn.Sequential. Like
 * a Sequential its parameters are named by block index (`0.norm1.weight`);
 * VisionTransformer registers it under `blocks`, giving timm's
 * `blocks.0.norm1.weight`. The final norm belongs to the head (@vitkit/head),
 * as timm's `norm` sits after the blocks.
 */
export class ViTEncoder extends Module {
  readonly config: EncoderConfig;
  readonly blocks: Block[];
  private readonly rng: Rng;

  constructor(config: EncoderConfig, options: EncoderOptions = {}) {
    super();
    this.config = { ...config };
    const rng = Rng.fromSeed(options.seed);
    const rates = dropPathRates(config.depth, config.dropPath);
    this.blocks = rates.map((rate, i) =>
      this.addModule(
        String(i),
        new Block(
          {
            dim: config.embedDim,
            numHeads: config.numHeads,
            mlpDim: config.mlpDim,
            qkvBias: config.qkvBias,
            layerNormEps: config.layerNormEps,
            layerScaleInit: config.layerScaleInit ?? null,
            activation: config.activation ?? 'gelu',
            qkNorm: config.qkNorm ?? false,
            drop: config.dropout,
            attnDrop: config.attentionDropout,
            dropPath: rate,
          },
          { seed: rng.seed() },
        ),
      ),
    );
    this.rng = new Rng(rng.seed());
  }

  /** Tokens [B, T, D] → [B, T, D]. Every tensor in the result belongs to the caller. */
  forward(x: tf.Tensor, options: EncoderForwardOptions = {}): EncoderOutput {
    if (x.rank !== 3 || x.shape[2] !== this.config.embedDim) {
      throw new ShapeError(`encoder expects tokens [batch, tokens, ${this.config.embedDim}], got [${x.shape.join(', ')}]`);
    }
    const rng = options.rng ?? this.rng;
    return tf.tidy(() => {
      const attentions: tf.Tensor4D[] = [];
      const hiddenStates: tf.Tensor3D[] = [];
      let h = x as tf.Tensor3D;
      for (const block of this.blocks) {
        const out = block.forward(h, { rng, returnAttention: options.returnAttention ?? false });
        if (out.attention) attentions.push(out.attention);
        h = out.output;
        if (options.returnHiddenStates) hiddenStates.push(h);
      }
      const result: EncoderOutput = { output: h };
      if (options.returnAttention) result.attentions = attentions;
      if (options.returnHiddenStates) result.hiddenStates = hiddenStates;
      return result as unknown as tf.TensorContainer;
    }) as unknown as EncoderOutput;
  }
}
