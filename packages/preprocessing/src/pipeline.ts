import { ShapeError } from '@vitkit/core';
import { cropWithFill } from './geometry.js';
import { assertImage, toRgb, type FloatArray, type Image, type Image8, type ModelInput } from './image.js';
import { normalizePixels } from './normalize.js';
import { planFor } from './plan.js';
import { resize, type ResizePrecision } from './resize/resize.js';
import type { PreprocessSpec } from './spec.js';

export interface PipelineOptions {
  /** `pillow` (default) rounds to uint8 between resize passes exactly like Pillow; `float` keeps full precision. */
  precision?: ResizePrecision;
}

/**
 * Resizes and crops an image per `spec` without normalizing: the 8-bit (or,
 * with `float` precision, float) RGB pixels the model input is made from.
 */
export function prepareGeometry(image: Image, spec: PreprocessSpec, options: PipelineOptions = {}): Image {
  assertImage(image);
  const precision = options.precision ?? 'pillow';
  let img: Image = image.data instanceof Uint8Array ? toRgb(image as Image8) : image;
  if (img.channels !== 3) throw new ShapeError(`float images must have 3 channels, got ${img.channels}`, 'convert to RGB first');
  const plan = planFor(spec, img.width, img.height);
  if (plan.resize) {
    if (precision === 'float' && img.data instanceof Uint8Array) img = { ...img, data: Float32Array.from(img.data) };
    img = resize(img, plan.resize.width, plan.resize.height, { interpolation: plan.resize.interpolation, precision: img.data instanceof Uint8Array ? 'pillow' : 'float' });
  }
  if (plan.crop) {
    const c = plan.crop;
    const data = cropWithFill(img.data, img.width, img.height, 3, c.left - c.pad[0], c.top - c.pad[1], c.width, c.height, c.fill);
    img = { data, width: c.width, height: c.height, channels: 3 };
  }
  return img;
}

/**
 * Turns a decoded image into a model input, [height, width, 3] float32 HWC:
 * convert to RGB, resize, center crop (or pad), rescale, normalize — the
 * typed-array path, no tfjs needed.
 */
export function preprocess(image: Image, spec: PreprocessSpec, options: PipelineOptions = {}): ModelInput {
  const img = prepareGeometry(image, spec, options);
  return { data: normalizePixels(img.data, spec), shape: [img.height, img.width, 3] };
}

/**
 * Preprocesses images of any sizes into one NHWC float32 batch. Every image
 * must come out the same size (true for any spec with a crop or exact resize).
 */
export function preprocessBatch(images: readonly Image[], spec: PreprocessSpec, options: PipelineOptions = {}): FloatArray {
  if (images.length === 0) throw new ShapeError('cannot preprocess an empty batch', 'pass at least one image');
  let out: Float32Array<ArrayBuffer> | undefined;
  let size: [number, number] = [0, 0];
  images.forEach((image, i) => {
    const img = prepareGeometry(image, spec, options);
    if (!out) {
      size = [img.height, img.width];
      out = new Float32Array(images.length * img.height * img.width * 3);
    } else if (img.height !== size[0] || img.width !== size[1]) {
      throw new ShapeError(
        `image ${i} preprocesses to ${img.width}x${img.height}, but image 0 to ${size[1]}x${size[0]}`,
        'use a spec with a center crop or an exact resize so that every image gets the same size',
      );
    }
    normalizePixels(img.data, spec, out, i * size[0] * size[1] * 3);
  });
  return { data: out!, shape: [images.length, size[0], size[1], 3] };
}
