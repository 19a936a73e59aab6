import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@vitkit/core';

/**
 * timm's `LayerScale`: multiplies each channel by a learned factor, `gamma` [dim],
 * initialized to `initValues` (timm `init_values`; DINOv2 1e-5). Blocks scale their
 * attention and MLP outputs with it (`ls1`, `ls2`) before the residual add.
 */
export class LayerScale extends Module {
  readonly gamma: tf.Variable;

  constructor(dim: number, initValues: number) {
    super();
    this.gamma = this.addParameter('gamma', tf.fill([dim], initValues), { decay: false });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, this.gamma);
  }
}
