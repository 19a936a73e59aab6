import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@vitkit/core';
import { DataError } from '../errors.js';
import type { Augmentation } from './augmentation.js';
import type { ImageDataset } from './dataset.js';

/** What the model expects: image size and channel count. */
export interface InputSpec {
  imageSize: [number, number];
  inChannels: number;
}

export interface GatherOptions {
  /** Applied to each uint8 image before normalization (float datasets are used as they are). */
  augment?: Augmentation;
  /** Drives the augmentation (required with `augment`). */
  rng?: Rng;
}

/**
 * Pixels of the samples at `indices` as float32 NHWC. uint8 images are
 * optionally augmented, then scaled and normalized ((x / 255 - mean) / std
 * per channel); float32 images are copied as they are.
 */
export function gatherPixels(ds: ImageDataset, indices: readonly number[], options: GatherOptions = {}): Float32Array {
  const [, h, w, c] = ds.shape;
  const per = h * w * c;
  const out = new Float32Array(indices.length * per);
  const src = ds.images;
  if (src instanceof Float32Array) {
    indices.forEach((idx, i) => out.set(src.subarray(idx * per, (idx + 1) * per), i * per));
    return out;
  }
  if (options.augment && !options.rng) throw new DataError('an augmentation needs an Rng', 'pass options.rng');
  const mean = ds.normalization?.mean ?? new Array<number>(c).fill(0);
  const std = ds.normalization?.std ?? new Array<number>(c).fill(1);
  const scale = mean.map((_, ch) => 1 / (255 * std[ch]!));
  const shift = mean.map((m, ch) => m / std[ch]!);
  indices.forEach((idx, i) => {
    let pixels = src.subarray(idx * per, (idx + 1) * per);
    if (options.augment) {
      const img = options.augment({ data: pixels, width: w, height: h, channels: c }, options.rng!);
      if (img.width !== w || img.height !== h || img.channels !== c) {
        throw new DataError(`the augmentation turned a ${w}x${h}x${c} image into ${img.width}x${img.height}x${img.channels}`, 'augmentations must keep the image size and channels');
      }
      pixels = img.data;
    }
    const d = i * per;
    for (let p = 0; p < per; p++) {
      const ch = p % c;
      out[d + p] = pixels[p]! * scale[ch]! - shift[ch]!;
    }
  });
  return out;
}

/**
 * Makes dataset images fit the model: grayscale is repeated to 3 channels
 * (and RGB averaged to 1), and a different spatial size is resized
 * bilinearly. Returns `x` itself when nothing needs to change.
 */
export function fitToModel(x: tf.Tensor4D, spec: InputSpec): tf.Tensor4D {
  const [, h, w, c] = x.shape;
  const [th, tw] = spec.imageSize;
  if (h === th && w === tw && c === spec.inChannels) return x;
  if (c !== spec.inChannels && !(c === 1 && spec.inChannels === 3) && !(c === 3 && spec.inChannels === 1)) {
    throw new DataError(`images have ${c} channels but the model expects ${spec.inChannels}`, 'use a model config with a matching in_channels / num_channels');
  }
  return tf.tidy(() => {
    let y: tf.Tensor4D = x;
    if (c === 1 && spec.inChannels === 3) y = tf.tile(y, [1, 1, 1, 3]);
    if (c === 3 && spec.inChannels === 1) y = tf.mean(y, 3, true);
    if (h !== th || w !== tw) y = tf.image.resizeBilinear(y, [th, tw], false, true);
    return y;
  });
}

/** A batch as tensors: images [B, H, W, C] float32 and labels [B] int32. The caller disposes both. */
export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** Turns float32 NHWC pixels into an image tensor fitted to the model's input. */
export function pixelsToTensor(pixels: Float32Array, shape: [number, number, number, number], spec: InputSpec): tf.Tensor4D {
  return tf.tidy(() => fitToModel(tf.tensor4d(pixels, shape, 'float32'), spec));
}

/** Builds a batch from the samples at `indices`, fitted to the model's input. */
export function makeBatch(ds: ImageDataset, indices: readonly number[], spec: InputSpec, options: GatherOptions = {}): Batch {
  const [, h, w, c] = ds.shape;
  const x = pixelsToTensor(gatherPixels(ds, indices, options), [indices.length, h, w, c], spec);
  const y = tf.tensor1d(Int32Array.from(indices, (i) => ds.labels[i]!), 'int32');
  return { x, y };
}
