import * as tf from '@tensorflow/tfjs-core';
import { Module, Rng, resolveConfig, type ViTConfig, type ViTConfigInput } from '@vitkit/core';
import { ViTEncoder } from '@vitkit/encoder';
import { ViTHead } from '@vitkit/head';
import { ViTInputLayer } from '@vitkit/input-layer';
import { toImageBatch } from './image_input.js';
import type { ViTForwardOptions, ViTOutput } from './output.js';

export interface VisionTransformerOptions {
  /** Seed for every initial weight and for the default dropout Rng (random when omitted). */
  seed?: number;
}

/**
 * A Vision Transformer as timm's `VisionTransformer` defines it: input layer
 * (patch embedding, class/distillation/register tokens, position embedding,
 * optional pre-norm), `depth` pre-norm blocks (optional LayerScale, qk-norm,
 * GELU / tanh-GELU / QuickGELU), final norm, pooling (class token, mean,
 * attention pool or none) and classifier (plus `head_dist` for DeiT distilled:
 * timm's VisionTransformerDistilled). One class covers the family (DeiT,
 * DINOv2, CLIP, SigLIP image towers); the config says which parts exist. Parameter names and
 * PyTorch-layout state dicts are exactly timm's, so timm checkpoints load
 * with `loadStateDict` as they are.
 *
 * The model starts in eval mode; `train()` enables dropout and stochastic depth.
 */
export class VisionTransformer extends Module {
  readonly config: ViTConfig;
  readonly inputLayer: ViTInputLayer;
  readonly encoder: ViTEncoder;
  readonly head: ViTHead;
  private readonly rng: Rng;

  constructor(config: ViTConfigInput | ViTConfig = {}, options: VisionTransformerOptions = {}) {
    super();
    this.config = resolveConfig(config);
    const rng = Rng.fromSeed(options.seed);
    // Names are timm's: the input layer sits at the root (cls_token, pos_embed, patch_embed.*), the
    // encoder is the `blocks` Sequential, and the head's parts are root-level `norm`/`fc_norm`/`head`.
    this.inputLayer = this.addModule('', new ViTInputLayer(this.config, { seed: rng.seed() }));
    this.encoder = this.addModule('blocks', new ViTEncoder(this.config, { seed: rng.seed() }));
    this.head = this.addModule('', new ViTHead(this.config, { seed: rng.seed() }));
    this.rng = new Rng(rng.seed());
  }

  /** Tokens per image seen by the encoder (prefix tokens + patches). */
  get numTokens(): number {
    return this.inputLayer.numTokens;
  }

  /**
   * Images (NHWC float32, [B, H, W, C] or one image [H, W, C]) → logits and
   * features, plus intermediate tensors on request. Every tensor in the
   * result belongs to the caller (see ViTOutput, disposeViTOutput).
   */
  forward(x: tf.Tensor, options: ViTForwardOptions = {}): ViTOutput {
    const rng = options.rng ?? this.rng;
    const hidden = options.returnHiddenStates ?? false;
    const attention = options.returnAttention ?? false;
    return tf.tidy(() => {
      const images = toImageBatch(x, this.config);
      const embeddings = this.inputLayer.forward(images, { rng });
      const encoded = this.encoder.forward(embeddings, { rng, returnAttention: attention, returnHiddenStates: hidden });
      const head = this.head.forward(encoded.output);
      const out: ViTOutput = { logits: head.logits, features: head.features };
      if (head.clsLogits && head.distLogits) {
        out.clsLogits = head.clsLogits;
        out.distLogits = head.distLogits;
      }
      if (options.returnTokens || hidden) out.tokens = head.normed;
      if (hidden) {
        out.embeddings = embeddings;
        out.hiddenStates = encoded.hiddenStates ?? [];
        out.finalNorm = head.normed;
      }
      if (attention) out.attentions = encoded.attentions ?? [];
      return out as unknown as tf.TensorContainer;
    }) as unknown as ViTOutput;
  }

  /** Images → logits [B, numClasses] (pooled features [B, D] when numClasses is 0). The caller disposes the result. */
  predict(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.forward(x).logits);
  }
}
