import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '@vitkit/core';
import { assertImageBatch, type ImageBatchSpec } from '@vitkit/input-layer';

/**
 * Accepts one image [H, W, C] or a batch [B, H, W, C] (NHWC float32) and
 * returns a checked batch. A rank-3 input gets a new tensor with a leading
 * batch dim (the caller disposes it when it differs from `x`).
 */
export function toImageBatch(x: tf.Tensor, spec: ImageBatchSpec): tf.Tensor4D {
  if (x.rank !== 3 && x.rank !== 4) {
    const [h, w] = spec.imageSize;
    throw new ShapeError(
      `input must be one image [${h}, ${w}, ${spec.inChannels}] or a batch [batch, ${h}, ${w}, ${spec.inChannels}] (NHWC), got [${x.shape.join(', ')}]`,
      'reshape the input to NHWC',
    );
  }
  assertImageBatch(x.rank === 3 ? { shape: [1, ...x.shape], dtype: x.dtype } : x, spec);
  return (x.rank === 3 ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
}
