// Images of any sizes and forms → one model batch, preprocessed one by one.
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, type ViTConfig } from '@vitkit/core';
import { normalizePixels, prepareGeometry, type DecodeOptions, type Image8, type PreprocessSpec } from '@vitkit/preprocessing';
import { describeInput, flattenInputs, toPixels, type ImageInput } from './images.js';

/** A model batch and each image as the model sees it. */
export interface PreparedBatch {
  /** [B, H, W, C] float32, normalized: the model's input. The caller disposes it. */
  batch: tf.Tensor4D;
  /** Per image: 8-bit RGB after resize and crop (before normalization), the pixels the batch was made from. */
  views: Image8[];
  /** Per image: its size as decoded, before preprocessing. */
  sourceSizes: { width: number; height: number }[];
}

/**
 * Decodes and preprocesses images one by one with `spec` (Pillow-exact resize and crop, then
 * normalization), checks each against the model's input size, and stacks them into one batch.
 * A one-channel model gets the luma of the normalized channels (exact for gray images).
 */
export async function prepareBatch(images: readonly ImageInput[], spec: PreprocessSpec, config: ViTConfig, decode: DecodeOptions): Promise<PreparedBatch> {
  const list = flattenInputs(images);
  if (list.length === 0) throw new ShapeError('no images given', 'pass one image or a list of them');
  const c = config.inChannels;
  const [mh, mw] = config.imageSize;
  let size: [number, number] | undefined;
  const parts: Float32Array[] = [];
  const views: Image8[] = [];
  const sourceSizes: PreparedBatch['sourceSizes'] = [];
  for (const [i, input] of list.entries()) {
    const pixels = await toPixels(input, decode);
    const view = prepareGeometry(pixels, spec) as Image8;
    const [h, w] = [view.height, view.width];
    const fits = config.dynamicImageSize || (h === mh && w === mw);
    if (!fits || (c !== 3 && c !== 1)) {
      throw new ShapeError(`${describeInput(input, i)} preprocessed to [${h}, ${w}, 3], but the model takes [${mh}, ${mw}, ${c}]`, 'check the preprocessing config');
    }
    if (size && (size[0] !== h || size[1] !== w)) {
      throw new ShapeError(`${describeInput(input, i)} preprocessed to ${h}x${w}, unlike the batch's ${size[0]}x${size[1]}`, 'run images of different sizes in separate calls');
    }
    size = [h, w];
    const data = normalizePixels(view.data, spec);
    parts.push(c === 3 ? data : luma(data, h * w));
    views.push(view);
    sourceSizes.push({ width: pixels.width, height: pixels.height });
  }
  const [h, w] = size!;
  const data = new Float32Array(list.length * h * w * c);
  parts.forEach((p, i) => data.set(p, i * h * w * c));
  return { batch: tf.tensor4d(data, [list.length, h, w, c], 'float32'), views, sourceSizes };
}

function luma(rgb: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = 0.299 * rgb[3 * p]! + 0.587 * rgb[3 * p + 1]! + 0.114 * rgb[3 * p + 2]!;
  return out;
}
