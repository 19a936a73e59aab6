import { FormatError, parseNpy, VitkitError } from '@vitkit/core';
import { toPixels, type DrawableImage } from '@vitkit/tasks';
import type { Image8 } from '@vitkit/preprocessing';
import { InputError } from './errors.js';
import type { InputPayload } from './protocol.js';

/** Photos larger than this (in pixels) are refused before decoding, as a decompression-bomb guard. */
const MAX_PIXELS = 64_000_000;

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** What the page sent, read: an image's pixels, or a .npy batch that is already preprocessed (NHWC float32). */
export type ReadInput = { kind: 'image'; image: Image8; name: string } | { kind: 'npy'; data: Float32Array; shape: number[]; name: string };

function isNpy(bytes: Uint8Array, name: string): boolean {
  return NPY_MAGIC.every((b, i) => bytes[i] === b) || name.toLowerCase().endsWith('.npy');
}

/** Turns a dropped file, a picked file or a webcam frame into pixels (decoded by the task layer) or a .npy batch. */
export async function readInput(payload: InputPayload): Promise<ReadInput> {
  if (payload.kind === 'bitmap') {
    try {
      return { kind: 'image', image: await toPixels(payload.bitmap as DrawableImage), name: payload.name };
    } finally {
      payload.bitmap.close();
    }
  }
  const bytes = new Uint8Array(await payload.blob.arrayBuffer());
  if (bytes.length === 0) throw new InputError(`cannot decode "${payload.name}": the file is empty`, 'pick another file');
  if (isNpy(bytes, payload.name)) return readNpy(bytes, payload.name);
  try {
    return { kind: 'image', image: await toPixels(bytes, { maxPixels: MAX_PIXELS }), name: payload.name };
  } catch (e) {
    if (e instanceof VitkitError) {
      throw new InputError(`cannot decode "${payload.name}": ${e.reason}`, 'use a PNG, JPEG, WebP, GIF, BMP or AVIF image, or a .npy array (model files go in the model panel)', { cause: e });
    }
    throw e;
  }
}

function readNpy(bytes: Uint8Array, name: string): ReadInput {
  try {
    const array = parseNpy(bytes);
    if (array.dtype !== 'float32') {
      throw new InputError(`"${name}" holds ${array.dtype} values; the model takes float32`, 'save the preprocessed input as float32 (numpy: x.astype("float32"))');
    }
    return { kind: 'npy', data: array.data as Float32Array, shape: array.shape, name };
  } catch (e) {
    if (e instanceof FormatError) throw new InputError(`"${name}": ${e.reason}`, e.hint, { cause: e });
    throw e;
  }
}

/** Light-on-dark datasets (Fashion-MNIST): 255 - v on every color channel, alpha kept. */
export function invertPixels(image: Image8): Image8 {
  const alpha = image.channels === 2 || image.channels === 4 ? image.channels - 1 : -1;
  return { ...image, data: image.data.map((v, i) => (i % image.channels === alpha ? v : 255 - v)) };
}

/**
 * Checks a .npy batch against the model's input: one image [H, W, C] or a batch [B, H, W, C]
 * (NHWC) at the model's resolution; returns the batch shape.
 */
export function npyBatchShape(input: { shape: number[]; name: string }, imageSize: [number, number], channels: number): [number, number, number, number] {
  const [h, w] = imageSize;
  const shape = input.shape.length === 3 ? [1, ...input.shape] : input.shape;
  if (shape.length !== 4 || shape[1] !== h || shape[2] !== w || shape[3] !== channels || shape[0] === 0) {
    const nchw = shape.length === 4 && shape[1] === channels && shape[2] === h && shape[3] === w;
    throw new InputError(
      `"${input.name}" has shape [${input.shape.join(', ')}]; this model takes [batch, ${h}, ${w}, ${channels}] or [${h}, ${w}, ${channels}] (NHWC, already preprocessed)`,
      nchw ? 'it looks like NCHW: save x.transpose(0, 2, 3, 1) instead' : `resize and normalize the input to ${h}×${w} with ${channels} channels first`,
    );
  }
  return shape as [number, number, number, number];
}

/** The first image of an NHWC float batch, min-max scaled to 8 bits, for display. */
export function npyView(data: Float32Array, h: number, w: number, c: number): { width: number; height: number; rgba: Uint8ClampedArray } {
  const n = h * w;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n * c; i++) {
    const v = data[i]!;
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) out[i * 4 + k] = (data[i * c + Math.min(k, c - 1)]! - lo) * scale;
    out[i * 4 + 3] = 255;
  }
  return { width: w, height: h, rgba: out };
}

/** An 8-bit RGB image as RGBA for a canvas; a one-channel model's input is shown as its luma. */
export function rgbaView(image: Image8, gray: boolean): { width: number; height: number; rgba: Uint8ClampedArray } {
  const n = image.width * image.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [image.data[i * 3]!, image.data[i * 3 + 1]!, image.data[i * 3 + 2]!];
    // Pillow's convert('L') weights, in integers as Pillow does.
    const l = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    out.set(gray ? [l, l, l, 255] : [r, g, b, 255], i * 4);
  }
  return { width: image.width, height: image.height, rgba: out };
}
