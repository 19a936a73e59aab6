import jpeg from 'jpeg-js';
import { CorruptImageError, UnsupportedImageError } from '../errors.js';
import type { Image8 } from '../image.js';
import { jpegLayout, ycbcrToRgbInPlace } from './jpeg_color.js';

/**
 * The fallback decoder (see jpeg.ts): a baseline or progressive JPEG with jpeg-js (pure JS, the same in
 * Node and browsers), converting YCbCr to RGB with libjpeg's fixed-point
 * rounding. Truncated files are errors, as in Pillow, rather than
 * gray-filled images. jpeg-js's IDCT rounds differently from libjpeg's and it
 * upsamples chroma without libjpeg's "fancy" smoothing, so JPEGs can differ
 * from Pillow by a few levels (mean well below one level at 4:4:4); PNG and
 * WebP match exactly.
 */
export function decodeJpegJs(bytes: Uint8Array, maxPixels: number): Image8 {
  // Without an Adobe marker, 3-component JPEGs are YCbCr (JFIF): convert them ourselves, with libjpeg's rounding.
  const layout = jpegLayout(bytes);
  const ownColor = layout.components === 3 && !layout.adobe;
  let img;
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      ...(ownColor ? { colorTransform: false } : {}),
      tolerantDecoding: false,
      maxResolutionInMP: Math.max(1, maxPixels / 1e6),
      maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 8) / 2 ** 20)),
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/unsupported|only single frame/i.test(message)) throw new UnsupportedImageError(`JPEG variant is not supported: ${message}`);
    throw new CorruptImageError(`JPEG could not be decoded: ${message}`, undefined, { cause: e });
  }
  const { width, height, data } = img;
  if (!width || !height || data.length !== width * height * 3) throw new CorruptImageError('JPEG decoded to an empty or inconsistent image');
  if (ownColor) ycbcrToRgbInPlace(data);
  return { data, width, height, channels: 3 };
}
