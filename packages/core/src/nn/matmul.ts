import * as tf from '@tensorflow/tfjs-core';

/**
 * 2-D matrix products shaped for the fast kernels of every backend.
 *
 * Forward: one fused product (`tf.fused.matMul`) with the bias added inside
 * the kernel. On the wasm backend that is XNNPACK's fully connected operator
 * (the same one a plain 2-D matMul uses, on the backend's thread pool) and
 * saves the separate broadcast add, a slow scalar pass there (~1 ms for a
 * ViT-B/16 MLP activation). Elsewhere it is the product followed by the add.
 *
 * Backward: tfjs's own matMul gradients ask for products with transposeA /
 * transposeB set, which the wasm backend computes in a scalar loop about 10x
 * slower than XNNPACK. Here each gradient is an explicit transpose (a cheap
 * copy) followed by a plain, fused product:
 *   y = a b + bias  =>  da = dy b^T,  db = a^T dy,  dbias = sum over rows of dy.
 */

type Saver = (tensors: tf.Tensor[]) => void;
/** tf.customGrad's argument (tfjs types it with a rest parameter; ours take fixed tensors). */
type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

function product(a: tf.Tensor2D, b: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  return tf.fused.matMul(bias ? { a, b, bias } : { a, b }) as tf.Tensor2D;
}

function gradients(dy: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  return [product(dy, tf.transpose(b)), product(tf.transpose(a), dy)];
}

const withoutBias = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: Saver) => {
  save([a, b]);
  return {
    value: product(a, b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => gradients(dy, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D),
  };
}) as unknown as CustomGradientFunc);

const withBias = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor1D, save: Saver) => {
  save([a, b]);
  return {
    value: product(a, b, bias),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [
      ...gradients(dy, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D),
      tf.sum(dy, 0),
    ],
  };
}) as unknown as CustomGradientFunc);

/**
 * a [M, K] @ b [K, N] (+ bias [N]) as one fused kernel, with a gradient made
 * of non-transposed products. Both operands must be rank 2.
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  return (bias ? withBias(a, b, bias) : withoutBias(a, b)) as tf.Tensor2D;
}
