import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module.js';
import { ShapeError } from '../errors.js';
import { linear } from './functional.js';

export interface LinearOptions {
  bias?: boolean;
  /** Std of the truncated-normal weight init (timm uses 0.02). */
  initStd?: number;
  seed?: number;
}

/** A fully connected layer named like torch.nn.Linear (`weight` [out, in], `bias` [out]). */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const std = options.initStd ?? 0.02;
    this.weight = this.addParameter('weight', tf.truncatedNormal([inFeatures, outFeatures], 0, std, 'float32', options.seed), {
      layout: 'linear',
    });
    this.bias = options.bias === false ? undefined : this.addParameter('bias', tf.zeros([outFeatures]), { decay: false });
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError(`Linear expects ${this.inFeatures} input features, got shape [${x.shape.join(', ')}]`);
    }
    return linear(x, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D | undefined);
  }
}
