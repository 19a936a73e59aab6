import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '@vitkit/core';
import { assertImage, toRgb, type Image } from './image.js';
import { planFor } from './plan.js';
import { resizeTensor } from './resize/resize_tf.js';
import type { PipelineOptions } from './pipeline.js';
import type { PreprocessSpec } from './spec.js';

function toTensor(image: Image | tf.Tensor3D): tf.Tensor3D {
  if (image instanceof tf.Tensor) {
    if (image.rank !== 3 || image.shape[2] !== 3) throw new ShapeError(`image tensor must be [height, width, 3], got [${image.shape.join(', ')}]`);
    return tf.cast(image, 'float32');
  }
  assertImage(image);
  const rgb = image.data instanceof Uint8Array ? toRgb(image as Image & { data: Uint8Array }) : image;
  if (rgb.channels !== 3) throw new ShapeError(`float images must have 3 channels, got ${rgb.channels}`);
  return tf.tensor3d(rgb.data instanceof Uint8Array ? Int32Array.from(rgb.data) : rgb.data, [rgb.height, rgb.width, 3], rgb.data instanceof Uint8Array ? 'int32' : 'float32');
}

/**
 * The tfjs path of `preprocess`: resize as two matMuls with Pillow's weights
 * (exact with the default `pillow` precision), crop/pad with slice and pad,
 * then rescale and normalize. Accepts a decoded image or an HWC tensor of
 * 0..255 levels; returns a float32 [height, width, 3] tensor the caller owns.
 */
export function preprocessTensor(image: Image | tf.Tensor3D, spec: PreprocessSpec, options: PipelineOptions = {}): tf.Tensor3D {
  const [h0, w0] = image instanceof tf.Tensor ? image.shape : [image.height, image.width];
  const plan = planFor(spec, w0, h0);
  return tf.tidy(() => {
    let x = toTensor(image);
    if (plan.resize) {
      x = resizeTensor(x, plan.resize.width, plan.resize.height, { interpolation: plan.resize.interpolation, precision: options.precision ?? 'pillow' });
    }
    if (plan.crop) {
      const c = plan.crop;
      const fill = tf.tensor1d(c.fill, 'float32');
      // Pad (x - fill) with zeros and add fill back: per-channel fill values with a scalar-only pad.
      const padded = tf.add(tf.pad(tf.sub(x, fill), [[c.pad[1], c.pad[3]], [c.pad[0], c.pad[2]], [0, 0]]), fill);
      x = tf.slice(padded, [c.top, c.left, 0], [c.height, c.width, 3]) as tf.Tensor3D;
    }
    if (spec.rescale !== undefined) x = Math.abs(spec.rescale * 255 - 1) < 1e-12 ? tf.div(x, 255) : tf.mul(x, spec.rescale);
    if (spec.mean && spec.std) x = tf.div(tf.sub(x, tf.tensor1d(spec.mean)), tf.tensor1d(spec.std));
    return x;
  });
}

/** Preprocesses images of any sizes into one [N, height, width, 3] float32 tensor. */
export function preprocessBatchTensor(images: readonly (Image | tf.Tensor3D)[], spec: PreprocessSpec, options: PipelineOptions = {}): tf.Tensor4D {
  if (images.length === 0) throw new ShapeError('cannot preprocess an empty batch', 'pass at least one image');
  return tf.tidy(() => {
    const outs = images.map((img) => preprocessTensor(img, spec, options));
    const [h, w] = outs[0]!.shape;
    outs.forEach((o, i) => {
      if (o.shape[0] !== h || o.shape[1] !== w) {
        throw new ShapeError(`image ${i} preprocesses to ${o.shape[1]}x${o.shape[0]}, but image 0 to ${w}x${h}`, 'use a spec with a center crop or an exact resize');
      }
    });
    return tf.stack(outs) as tf.Tensor4D;
  });
}
