import { FormatError, parseNpy, VitkitError } from '@vitkit/core';
import { decodeImageNative, UnsupportedImageError, type Image8, type PreprocessSpec } from '@vitkit/preprocessing/browser';
import { InputError } from './errors.js';
import type { InputPayload } from './protocol.js';
import { preprocessImage } from './preprocess.js';

/** What the model needs to know about its input. */
export interface InputSpec {
  imageSize: [number, number];
  inChannels: number;
}

/** A batch ready for the model, NHWC float32, with the first image for display. */
export interface ModelInput {
  data: Float32Array;
  shape: [number, number, number, number];
  view: { width: number; height: number; data: Uint8ClampedArray };
  summary: string;
}

export interface ImagePreprocessing {
  spec: PreprocessSpec;
  /** Said in the summary ("hf preprocessing"). */
  name: string;
  invert: boolean;
}

/** Photos larger than this (in pixels) are refused before decoding, as a decompression-bomb guard. */
const MAX_PIXELS = 64_000_000;

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function isNpy(bytes: Uint8Array): boolean {
  return NPY_MAGIC.every((b, i) => bytes[i] === b);
}

/** Turns a dropped file, a picked file or a webcam frame into a model input. */
export async function readInput(payload: InputPayload, spec: InputSpec, pre: ImagePreprocessing): Promise<ModelInput> {
  if (payload.kind === 'bitmap') {
    try {
      return fromImage(bitmapPixels(payload.bitmap), payload.name, spec, pre);
    } finally {
      payload.bitmap.close();
    }
  }
  const bytes = new Uint8Array(await payload.blob.arrayBuffer());
  if (isNpy(bytes) || payload.name.toLowerCase().endsWith('.npy')) return fromNpy(bytes, payload.name, spec);
  return fromImage(await decode(bytes, payload.name), payload.name, spec, pre);
}

/**
 * Decodes with @vitkit/preprocessing (the browser's codecs after header
 * checks); formats it does not handle (BMP, AVIF, ...) go straight to the
 * browser.
 */
async function decode(bytes: Uint8Array, name: string): Promise<Image8> {
  if (bytes.length === 0) throw new InputError(`cannot decode "${name}": the file is empty`, 'pick another file');
  try {
    return await decodeImageNative(bytes, { maxPixels: MAX_PIXELS });
  } catch (e) {
    if (e instanceof UnsupportedImageError) {
      const fallback = await createImageBitmap(new Blob([bytes.slice().buffer as ArrayBuffer])).catch(() => undefined);
      if (fallback) {
        try {
          return bitmapPixels(fallback);
        } finally {
          fallback.close();
        }
      }
    }
    if (e instanceof VitkitError) {
      throw new InputError(`cannot decode "${name}": ${e.reason}`, 'use a PNG, JPEG, WebP, GIF, BMP or AVIF image, or a .npy array (model files go in the model panel)', { cause: e });
    }
    throw e;
  }
}

/** RGBA pixels of a bitmap (a webcam frame). */
function bitmapPixels(bitmap: ImageBitmap): Image8 {
  const { width, height } = bitmap;
  if (width === 0 || height === 0) throw new InputError('the image is empty (0 pixels)');
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new InputError('this browser cannot read pixels in a worker (no 2D OffscreenCanvas)', 'use a recent Chrome, Edge, Firefox or Safari');
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, width, height);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 4 };
}

function fromImage(image: Image8, name: string, spec: InputSpec, pre: ImagePreprocessing): ModelInput {
  const [h, w] = spec.imageSize;
  const { data, view } = preprocessImage(image, pre.spec, spec.imageSize, spec.inChannels, pre.invert);
  return {
    data,
    shape: [1, h, w, spec.inChannels],
    view,
    summary: `${name}: ${image.width}×${image.height} → ${w}×${h}×${spec.inChannels}, ${pre.name} preprocessing${pre.invert ? ', inverted' : ''}`,
  };
}

/**
 * A .npy array that is already preprocessed: one image [H, W, C] or a batch
 * [B, H, W, C] (NHWC) at the model's resolution.
 */
function fromNpy(bytes: Uint8Array, name: string, spec: InputSpec): ModelInput {
  let array;
  try {
    array = parseNpy(bytes);
  } catch (e) {
    if (e instanceof FormatError) throw new InputError(`"${name}": ${e.reason}`, e.hint, { cause: e });
    throw e;
  }
  const [h, w] = spec.imageSize;
  const c = spec.inChannels;
  const shape = array.shape.length === 3 ? [1, ...array.shape] : array.shape;
  if (array.dtype !== 'float32') {
    throw new InputError(`"${name}" holds ${array.dtype} values; the model takes float32`, 'save the preprocessed input as float32 (numpy: x.astype("float32"))');
  }
  if (shape.length !== 4 || shape[1] !== h || shape[2] !== w || shape[3] !== c || shape[0] === 0) {
    const nchw = shape.length === 4 && shape[1] === c && shape[2] === h && shape[3] === w;
    throw new InputError(
      `"${name}" has shape [${array.shape.join(', ')}]; this model takes [batch, ${h}, ${w}, ${c}] or [${h}, ${w}, ${c}] (NHWC, already preprocessed)`,
      nchw ? 'it looks like NCHW: save x.transpose(0, 2, 3, 1) instead' : `resize and normalize the input to ${h}×${w} with ${c} channels first`,
    );
  }
  return {
    data: array.data as Float32Array,
    shape: shape as [number, number, number, number],
    view: npyView(array.data as Float32Array, h, w, c),
    summary: `${name}: npy [${array.shape.join(', ')}] float32, used as it is`,
  };
}

/** The first image of an NHWC float batch, min-max scaled to 8 bits, for display. */
function npyView(data: Float32Array, h: number, w: number, c: number): ModelInput['view'] {
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
  return { width: w, height: h, data: out };
}
