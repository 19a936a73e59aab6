import * as tf from '@tensorflow/tfjs-core';
import { GELU_KERNEL, kernelRegistered, LAYER_NORM_KERNEL, type GeluForm } from '../backends/fused/index.js';
import type { Activation } from '../config.js';
import type { Rng } from '../rng.js';

/**
 * x @ w + b over the last axis of x, for x of any rank >= 2 and w [in, out]:
 * one fused product (bias added inside the kernel) on x flattened to 2-D.
 * On the wasm backend that is XNNPACK's fully connected operator and saves a
 * separate broadcast add; its gradients are fast there too (see
 * backends/wasm/batch_matmul.ts).
 */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const inDim = w.shape[0];
    const outDim = w.shape[1];
    const lead = x.shape.slice(0, -1);
    const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
    const y = tf.fused.matMul(b ? { a: x2, b: w, bias: b } : { a: x2, b: w });
    return x.rank === 2 ? y : tf.reshape(y, [...lead, outDim]);
  });
}

function useLayerNormKernel(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): boolean {
  if (x.dtype !== 'float32' || gamma.dtype !== 'float32' || beta.dtype !== 'float32' || x.rank < 1) return false;
  return kernelRegistered(LAYER_NORM_KERNEL);
}

/**
 * LayerNorm over the last axis, with biased variance as PyTorch computes it:
 * one fused kernel (forward, and one backward) where the active backend has
 * it registered, the composite tfjs ops elsewhere.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  if (useLayerNormKernel(x, gamma, beta)) {
    return tf.tidy(() => (tf.engine().runKernel(LAYER_NORM_KERNEL, { x, gamma, beta }, { eps }) as tf.Tensor[])[0]!);
  }
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const mean = tf.mean(x, axis, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), axis, true);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, gamma), beta);
  });
}

/**
 * The fused GELU kernel's output (forward, and one backward launch), or
 * undefined where the active backend lacks it (the callers then run their
 * composite tfjs ops).
 */
function fusedGelu(x: tf.Tensor, form: GeluForm): tf.Tensor | undefined {
  if (x.dtype !== 'float32' || !kernelRegistered(GELU_KERNEL)) return undefined;
  return (tf.engine().runKernel(GELU_KERNEL, { x }, { form }) as tf.Tensor[])[0]!;
}

/** Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.GELU() computes it. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return fusedGelu(x, 'exact') ?? tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/** GELU with the tanh approximation, as torch.nn.GELU(approximate='tanh') (HF gelu_pytorch_tanh). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const fused = fusedGelu(x, 'tanh');
  if (fused) return fused;
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** CLIP's QuickGELU, x * sigmoid(1.702 x) (timm quick_gelu). */
export function quickGelu(x: tf.Tensor): tf.Tensor {
  return fusedGelu(x, 'quick') ?? tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));
}

/** The MLP activation a config names (ViTConfig.activation). */
export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  if (activation === 'gelu_tanh') return geluTanh(x);
  if (activation === 'quick_gelu') return quickGelu(x);
  return gelu(x);
}

/** Inverted dropout: zeroes elements with probability `rate` and scales the rest by 1/(1-rate). */
export function dropout(x: tf.Tensor, rate: number, rng: Rng): tf.Tensor {
  if (rate <= 0) return x;
  return tf.tidy(() => {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', rng.seed()), rate), 'float32');
    return tf.mul(x, tf.mul(keep, 1 / (1 - rate)));
  });
}

/**
 * Stochastic depth: drops the whole residual branch per sample with
 * probability `rate` (x is [B, ...]) and scales kept samples by 1/(1-rate).
 */
export function dropPath(x: tf.Tensor, rate: number, rng: Rng): tf.Tensor {
  if (rate <= 0) return x;
  return tf.tidy(() => {
    const maskShape = [x.shape[0]!, ...new Array<number>(x.rank - 1).fill(1)];
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(maskShape, 0, 1, 'float32', rng.seed()), rate), 'float32');
    return tf.mul(x, tf.mul(keep, 1 / (1 - rate)));
  });
}
