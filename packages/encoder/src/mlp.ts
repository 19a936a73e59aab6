import * as tf from '@tensorflow/tfjs-core';
import { Linear, Module, Rng, activate, dropout, type Activation } from '@vitkit/core';

export interface MlpOptions {
  /** Dropout after the activation and after fc2 (training mode only). */
  drop?: number;
  /** The activation after fc1 (default exact GELU). */
  activation?: Activation;
  seed?: number;
}

/**
 * timm's `Mlp`: fc1 → activation (exact GELU, tanh GELU or QuickGELU) → dropout → fc2 → dropout.
 * Parameters: `fc1.{weight,bias}`, `fc2.{weight,bias}`.
 */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly drop: number;
  readonly activation: Activation;
  private readonly rng: Rng;

  constructor(inFeatures: number, hiddenFeatures: number, options: MlpOptions = {}) {
    super();
    this.drop = options.drop ?? 0;
    this.activation = options.activation ?? 'gelu';
    const rng = Rng.fromSeed(options.seed);
    this.fc1 = this.addModule('fc1', new Linear(inFeatures, hiddenFeatures, { seed: rng.seed() }));
    this.fc2 = this.addModule('fc2', new Linear(hiddenFeatures, inFeatures, { seed: rng.seed() }));
    this.rng = new Rng(rng.seed());
  }

  /** [..., D] → [..., D]; the Linear layers flatten to 2-D internally. */
  forward(x: tf.Tensor, options: { rng?: Rng } = {}): tf.Tensor {
    const rng = options.rng ?? this.rng;
    const drop = this.training && this.drop > 0;
    return tf.tidy(() => {
      let hidden = activate(this.fc1.forward(x), this.activation);
      if (drop) hidden = dropout(hidden, this.drop, rng);
      let out = this.fc2.forward(hidden);
      if (drop) out = dropout(out, this.drop, rng);
      return out;
    });
  }
}
