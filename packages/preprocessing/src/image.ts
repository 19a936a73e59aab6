import { ShapeError } from '@vitkit/core';

/**
 * A decoded image: interleaved pixels, row-major, `channels` values per pixel
 * (HWC layout). Uint8 images hold 0..255 levels; Float32 images hold whatever
 * their producer says (after normalization, model inputs).
 */
export interface Image<T extends Uint8Array | Float32Array = Uint8Array | Float32Array> {
  data: T;
  width: number;
  height: number;
  channels: number;
}

/** An 8-bit image, the form decoders return and geometric ops work on. */
export type Image8 = Image<Uint8Array>;

/** A float image or batch in NHWC / HWC order, as the model consumes it. */
export interface FloatArray {
  data: Float32Array;
  shape: number[];
}

/** An HWC float image ready for a model: [height, width, 3]. */
export interface ModelInput {
  data: Float32Array;
  shape: [number, number, number];
}

/** Throws a ShapeError unless `image` is a consistent, non-empty image. */
export function assertImage(image: Image, what = 'image'): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ShapeError(`${what} must have positive integer width and height, got ${width}x${height}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw new ShapeError(`${what} must have 1 to 4 channels, got ${channels}`);
  }
  if (data.length !== width * height * channels) {
    throw new ShapeError(
      `${what} data has ${data.length} values but ${width}x${height}x${channels} needs ${width * height * channels}`,
      'pass interleaved HWC pixels: data.length = width * height * channels',
    );
  }
}

/**
 * Converts an 8-bit image to 3-channel RGB the way Pillow's `convert('RGB')`
 * does: gray is replicated, alpha is dropped (not composited). Returns the
 * input itself when it already is RGB.
 */
export function toRgb(image: Image8): Image8 {
  assertImage(image);
  const { width, height, channels, data } = image;
  if (channels === 3) return image;
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const r = data[s]!;
    const g = channels >= 3 ? data[s + 1]! : r;
    const b = channels >= 3 ? data[s + 2]! : r;
    out[i * 3] = r;
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = b;
  }
  return { data: out, width, height, channels: 3 };
}
