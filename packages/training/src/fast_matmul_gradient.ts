import * as tf from '@tensorflow/tfjs-core';

/**
 * A faster gradient for 2-D matrix products (BatchMatMul whose batch dims are
 * all 1, which is what every Linear layer runs).
 *
 * The stock gradient asks for products with transposeA / transposeB set. On
 * the wasm backend only non-transposed products reach XNNPACK; transposed
 * ones take a generic loop about 10x slower (measured: [6400,64]^T x
 * [6400,192] 42 ms vs 3.4 ms), which made the backward pass of a small ViT
 * four times slower than its forward pass. Transposing explicitly first
 * (a cheap copy) and multiplying plainly is numerically the same product.
 *
 * For C = op(A) op(B) with upstream gradient G:
 *   A B:     dA = G B^T      dB = A^T G
 *   A B^T:   dA = G B        dB = G^T A
 *   A^T B:   dA = B G^T      dB = A G
 *   A^T B^T: dA = B^T G^T    dB = G^T A^T
 * Other shapes (real batches, broadcasting) keep the stock gradient.
 */
export function installFastMatMulGradient(): boolean {
  const stock = tf.getGradient('BatchMatMul');
  if (!stock || (stock as { fastMatMul?: boolean }).fastMatMul) return false;
  const config: tf.GradConfig & { fastMatMul: boolean } = {
    kernelName: 'BatchMatMul',
    inputsToSave: stock.inputsToSave ?? ['a', 'b'],
    fastMatMul: true,
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      if (!isMatrixLike(a) || !isMatrixLike(b) || !isMatrixLike(g)) return stock.gradFunc(dy, saved, attrs);
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const as2 = (t: tf.Tensor): tf.Tensor2D => (t.rank === 2 ? t : tf.reshape(t, [t.shape[t.rank - 2]!, t.shape[t.rank - 1]!])) as tf.Tensor2D;
      const T = (t: tf.Tensor2D): tf.Tensor2D => tf.transpose(t);
      const mm = (x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D => tf.matMul(x, y);
      const back = (t: tf.Tensor2D, like: tf.Tensor): tf.Tensor => (like.rank === 2 ? t : tf.reshape(t, like.shape));
      const A = (): tf.Tensor2D => as2(a);
      const B = (): tf.Tensor2D => as2(b);
      const G = (): tf.Tensor2D => as2(g);
      if (!transposeA && !transposeB) return { a: () => back(mm(G(), T(B())), a), b: () => back(mm(T(A()), G()), b) };
      if (!transposeA && transposeB) return { a: () => back(mm(G(), B()), a), b: () => back(mm(T(G()), A()), b) };
      if (transposeA && !transposeB) return { a: () => back(mm(B(), T(G())), a), b: () => back(mm(A(), G()), b) };
      return { a: () => back(mm(T(B()), T(G())), a), b: () => back(mm(T(G()), T(A())), b) };
    },
  };
  tf.registerGradient(config);
  return true;
}

/** Rank 2, or higher rank with every batch dim 1. */
function isMatrixLike(t: tf.Tensor): boolean {
  return t.rank >= 2 && t.shape.slice(0, -2).every((d) => d === 1);
}
