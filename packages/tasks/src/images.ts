// Every form an image comes in, turned into 8-bit pixels that the
// preprocessing pipeline takes.
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '@vitkit/core';
import { decodeImage, DEFAULT_MAX_PIXELS, ImageTooLargeError, readBytes, UnsupportedImageError, type DecodeOptions, type Image8 } from '@vitkit/preprocessing';

/** ImageData as browsers (and node-canvas) make it: RGBA rows. */
export interface ImageDataLike {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** Something a 2D canvas can draw: ImageBitmap, HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, VideoFrame. */
export interface DrawableImage {
  readonly width: number;
  readonly height: number;
}

/**
 * An image as users hold it:
 * - a path (Node) or an http(s) URL (string or URL): the file is decoded as Pillow decodes it;
 * - the file's bytes (Uint8Array, ArrayBuffer, any typed-array view) or a Blob / File;
 * - decoded pixels: ImageData, vitkit's `{ data, width, height, channels }` (8-bit);
 * - an ImageBitmap, HTMLImageElement, canvas or OffscreenCanvas (browsers): read back through a canvas,
 *   so the browser's own decoder made those pixels (pass the file's bytes or Blob for Pillow-exact ones);
 * - a tf.Tensor of pixels 0..255, [H, W, C] (C = 1, 3 or 4) or, in a batch, [B, H, W, C] for B images.
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | ArrayBufferView | Blob | ImageDataLike | Image8 | DrawableImage | tf.Tensor;

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

function isImage8(x: object): x is Image8 {
  const o = x as Partial<Image8>;
  return o.data instanceof Uint8Array && typeof o.channels === 'number' && typeof o.width === 'number' && typeof o.height === 'number';
}

function isImageDataLike(x: object): x is ImageDataLike {
  const o = x as Partial<ImageDataLike>;
  return (
    (o.data instanceof Uint8ClampedArray || o.data instanceof Uint8Array) &&
    typeof o.width === 'number' &&
    typeof o.height === 'number' &&
    o.data.length === o.width * o.height * 4
  );
}

function isDrawable(x: object): x is DrawableImage {
  const o = x as { width?: unknown; height?: unknown; naturalWidth?: unknown; getContext?: unknown; close?: unknown; displayWidth?: unknown };
  if (typeof ImageBitmap !== 'undefined' && x instanceof ImageBitmap) return true;
  return (typeof o.width === 'number' && typeof o.height === 'number' && (typeof o.getContext === 'function' || typeof o.naturalWidth === 'number')) || typeof o.displayWidth === 'number';
}

/** Pixels of a drawable image through a 2D canvas (browsers and workers). */
function drawToPixels(image: DrawableImage): Image8 {
  const src = image as { naturalWidth?: number; naturalHeight?: number; displayWidth?: number; displayHeight?: number; width: number; height: number };
  const width = src.naturalWidth || src.displayWidth || src.width;
  const height = src.naturalHeight || src.displayHeight || src.height;
  if (!(width > 0 && height > 0)) throw new ShapeError(`the image has no pixels (${width}x${height})`, 'wait until it has loaded');
  let ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null = null;
  if (typeof OffscreenCanvas !== 'undefined') ctx = new OffscreenCanvas(width, height).getContext('2d');
  else if (typeof document !== 'undefined') {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    ctx = canvas.getContext('2d');
  }
  if (!ctx) throw new UnsupportedImageError('this environment has no 2D canvas to read the image through', 'pass the file bytes, a Blob or ImageData');
  ctx.drawImage(image as CanvasImageSource, 0, 0);
  const data = ctx.getImageData(0, 0, width, height).data;
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 4 };
}

/** An [H, W, C] tensor of 0..255 values as 8-bit pixels (values rounded and clamped). */
function tensorToPixels(t: tf.Tensor): Image8 {
  if (t.rank !== 3 || ![1, 3, 4].includes(t.shape[2]!)) {
    throw new ShapeError(`an image tensor must be [height, width, channels] with 1, 3 or 4 channels (or a batch of them), got [${t.shape.join(', ')}]`, 'pass NHWC pixels 0..255');
  }
  const values = t.dataSync();
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) throw new ShapeError(`the image tensor holds ${v} at element ${i}`, 'pixels must be finite numbers 0..255');
    data[i] = Math.min(255, Math.max(0, Math.round(v)));
  }
  return { data, width: t.shape[1]!, height: t.shape[0]!, channels: t.shape[2]! };
}

/** Splits a list of inputs into single images: a [B, H, W, C] tensor counts as B images. */
export function flattenInputs(inputs: readonly ImageInput[]): ImageInput[] {
  const out: ImageInput[] = [];
  for (const input of inputs) {
    if (isTensor(input) && input.rank === 4) out.push(...tf.unstack(input));
    else out.push(input);
  }
  return out;
}

/** Describes an input for error messages. */
export function describeInput(input: ImageInput, index: number): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  const name = (input as { name?: unknown }).name;
  if (typeof name === 'string' && name) return name;
  return `image ${index}`;
}

/**
 * Decodes an encoded image. Formats vitkit does not decode itself (BMP, AVIF, ICO, ...) are handed to
 * the browser's decoder where there is one (createImageBitmap), so a browser app takes what the
 * browser shows; in Node they stay an UnsupportedImageError.
 */
async function decodeBytes(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options: DecodeOptions): Promise<Image8> {
  try {
    return await decodeImage(bytes, options);
  } catch (e) {
    if (!(e instanceof UnsupportedImageError) || typeof createImageBitmap === 'undefined') throw e;
    const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bitmap = await createImageBitmap(new Blob([view.slice()])).catch(() => undefined);
    if (!bitmap) throw e;
    try {
      // The same decompression-bomb guard as vitkit's own decoders (checked before reading pixels back).
      const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
      if (bitmap.width * bitmap.height > maxPixels) throw new ImageTooLargeError(bitmap.width, bitmap.height, maxPixels);
      return drawToPixels(bitmap);
    } finally {
      bitmap.close();
    }
  }
}

/** Decodes or reads any ImageInput into 8-bit pixels (EXIF orientation applied to encoded files). */
export async function toPixels(input: ImageInput, options: DecodeOptions = {}): Promise<Image8> {
  if (typeof input === 'string' || input instanceof URL) return decodeBytes(await readBytes(input instanceof URL ? input.href : input), options);
  if (input instanceof Uint8Array || input instanceof ArrayBuffer || ArrayBuffer.isView(input)) return decodeBytes(input, options);
  if (typeof Blob !== 'undefined' && input instanceof Blob) return decodeBytes(new Uint8Array(await input.arrayBuffer()), options);
  if (isTensor(input)) return tensorToPixels(input);
  if (typeof input === 'object' && input !== null) {
    if (isImage8(input)) return input;
    if (isImageDataLike(input)) return { data: new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength), width: input.width, height: input.height, channels: 4 };
    if (isDrawable(input)) return drawToPixels(input);
  }
  throw new UnsupportedImageError(
    `cannot read an image from ${input === null ? 'null' : typeof input}`,
    'pass a path or URL, file bytes, a Blob/File, ImageData, an ImageBitmap/image/canvas, or a tensor of pixels',
  );
}
