import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module.js';
import { layerNorm } from './functional.js';

/** LayerNorm over the last axis, named like torch.nn.LayerNorm (`weight`, `bias`). */
export class LayerNorm extends Module {
  readonly eps: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(dim: number, eps = 1e-6) {
    super();
    this.eps = eps;
    this.weight = this.addParameter('weight', tf.ones([dim]), { decay: false });
    this.bias = this.addParameter('bias', tf.zeros([dim]), { decay: false });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, this.eps);
  }
}
