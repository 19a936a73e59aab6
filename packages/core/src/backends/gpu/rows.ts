import * as tf from '@tensorflow/tfjs-core';

/**
 * Row length (the last axis) and row count of `x`, as the cpu kernels count
 * them (fused/layer_norm.ts): D = 0 has no rows.
 */
export function rowsOf(x: tf.TensorInfo): { dim: number; rows: number } {
  const dim = x.shape[x.shape.length - 1] ?? 1;
  return { dim, rows: dim === 0 ? 0 : tf.util.sizeFromShape(x.shape) / dim };
}
