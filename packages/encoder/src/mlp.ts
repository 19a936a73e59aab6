import * as tf from '@tensorflow/tfjs-core';
import { Linear, Module, Rng, dropout, gelu } from '@vitkit/core';

export interface MlpOptions {
  /** Dropout after the activation and after fc2 (training mode only). */
  drop?: number;
  seed?: number;
}

/**
 * timm's `Mlp`: fc1 → exact (erf) GELU → dropout → fc2 → dropout.
 * Parameters: `fc1.{weight,bias}`, `fc2.{weight,bias}`.
 */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly drop: number;
  private readonly rng: Rng;

  constructor(inFeatures: number, hiddenFeatures: number, options: MlpOptions = {}) {
    super();
    this.drop = options.drop ?? 0;
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
      let hidden = gelu(this.fc1.forward(x));
      if (drop) hidden = dropout(hidden, this.drop, rng);
      let out = this.fc2.forward(hidden);
      if (drop) out = dropout(out, this.drop, rng);
      return out;
    });
  }
}
