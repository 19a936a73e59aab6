import { CorruptImageError, ImageTooLargeError, UnsupportedImageError } from '../errors.js';
import type { Image8 } from '../image.js';
import { canDecodeWithBrowser, decodeWithBrowser } from './browser_decode.js';
import { readOrientation, type Orientation } from './exif.js';
import { decodeGif } from './gif.js';
import { readHeaderSize } from './header.js';
import { decodeJpeg, initJpeg } from './jpeg.js';
import { applyOrientation } from './orientation.js';
import { decodePng } from './png.js';
import { isDecodableFormat, sniffFormat, type ImageFormat } from './sniff.js';
import { decodeWebpSync, initWebp } from './webp.js';

/**
 * Pillow refuses images above 2 * MAX_IMAGE_PIXELS (2 * 89,478,485) pixels
 * as decompression bombs; so do we by default.
 */
export const DEFAULT_MAX_PIXELS = 178_956_970;

export interface DecodeOptions {
  /** Refuse images with more pixels than this, before allocating them (default 178,956,970 as Pillow). */
  maxPixels?: number;
  /** Turn the image upright per its EXIF orientation (default true). */
  applyExifOrientation?: boolean;
}

/** A decoded image with where it came from. `channels` is 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA). */
export interface DecodedImage extends Image8 {
  format: ImageFormat;
  /** The EXIF orientation found in the file (already applied unless applyExifOrientation was false). */
  orientation: Orientation;
}

export type ImageBytes = Uint8Array | ArrayBuffer | ArrayBufferView;

export function asBytes(input: ImageBytes): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new UnsupportedImageError(`expected image bytes (Uint8Array or ArrayBuffer), got ${typeof input}`, 'read the file into a Uint8Array first');
}

/** Identifies the format and checks the header's dimensions against the pixel limit. */
export function inspectImage(input: ImageBytes, options: DecodeOptions = {}): { format: ImageFormat; width: number; height: number } {
  const bytes = asBytes(input);
  if (bytes.length === 0) throw new CorruptImageError('image file is empty (0 bytes)');
  const format = sniffFormat(bytes);
  if (!isDecodableFormat(format)) {
    throw new UnsupportedImageError(format ? `${format.toUpperCase()} files are not supported` : 'not an image: the bytes match no known image format');
  }
  const { width, height } = readHeaderSize(bytes, format);
  if (width === 0 || height === 0) throw new CorruptImageError(`${format.toUpperCase()} header gives an empty size ${width}x${height}`);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (width * height > maxPixels) throw new ImageTooLargeError(width, height, maxPixels);
  return { format, width, height };
}

function finish(image: Image8, bytes: Uint8Array, format: ImageFormat, options: DecodeOptions, header: { width: number; height: number }): DecodedImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (image.width * image.height > maxPixels) throw new ImageTooLargeError(image.width, image.height, maxPixels);
  if (format !== 'gif' && (image.width !== header.width || image.height !== header.height)) {
    throw new CorruptImageError(`${format.toUpperCase()} header says ${header.width}x${header.height} but the data decodes to ${image.width}x${image.height}`);
  }
  const orientation = readOrientation(bytes, format);
  const upright = options.applyExifOrientation === false ? image : applyOrientation(image, orientation);
  return { ...upright, format, orientation };
}

function decodeKnown(bytes: Uint8Array, format: ImageFormat, maxPixels: number): Image8 {
  switch (format) {
    case 'png':
      return decodePng(bytes);
    case 'jpeg':
      return decodeJpeg(bytes, maxPixels);
    case 'gif':
      return decodeGif(bytes, maxPixels);
    case 'webp':
      return decodeWebpSync(bytes);
  }
}

/**
 * Decodes PNG, JPEG, GIF (first frame) or — once `initWebp()` has resolved —
 * WebP bytes synchronously with pure-JS/wasm decoders that give the same
 * pixels in Node and browsers. Throws CorruptImageError, UnsupportedImageError
 * or ImageTooLargeError (checked from the header, before decoding).
 */
export function decodeImageSync(input: ImageBytes, options: DecodeOptions = {}): DecodedImage {
  const bytes = asBytes(input);
  const header = inspectImage(bytes, options);
  const image = decodeKnown(bytes, header.format, options.maxPixels ?? DEFAULT_MAX_PIXELS);
  return finish(image, bytes, header.format, options, header);
}

/**
 * Decodes image bytes (PNG, JPEG, WebP, GIF first frame) to 8-bit pixels with
 * EXIF orientation applied. Works in Node and browsers; in a browser without
 * a configured WebP wasm (see setWebpWasm), WebP goes through the browser's
 * own decoder.
 */
export async function decodeImage(input: ImageBytes, options: DecodeOptions = {}): Promise<DecodedImage> {
  const bytes = asBytes(input);
  const header = inspectImage(bytes, options);
  if (header.format === 'jpeg') await initJpeg();
  if (header.format === 'webp' && !(await initWebp())) {
    if (!canDecodeWithBrowser()) throw new UnsupportedImageError('no WebP decoder is available here', 'call setWebpWasm() with the webp.wasm of @cwasm/webp');
    const image = await decodeWithBrowser(bytes, 'webp', options.applyExifOrientation === false ? 'none' : 'from-image');
    return { ...image, format: 'webp', orientation: readOrientation(bytes, 'webp') };
  }
  return decodeImageSync(bytes, options);
}
