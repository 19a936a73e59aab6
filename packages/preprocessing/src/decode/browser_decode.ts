import { CorruptImageError, UnsupportedImageError } from '../errors.js';
import type { Image8 } from '../image.js';

const MIME = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' } as const;

/** Whether this environment has the APIs decodeWithBrowser needs. */
export function canDecodeWithBrowser(): boolean {
  return typeof createImageBitmap === 'function' && (typeof OffscreenCanvas === 'function' || typeof document !== 'undefined');
}

/**
 * Decodes with the browser's own codecs at natural size: no resampling, no
 * alpha premultiplication, no color management (the embedded ICC profile is
 * ignored, as Pillow ignores it), EXIF orientation applied by the browser.
 * Returns RGBA. Pixel-exact for PNG and lossless WebP; JPEG goes through the
 * browser's libjpeg-turbo. Semi-transparent pixels pass through a 2D canvas,
 * which stores premultiplied alpha, so their colors may be off by rounding.
 */
export async function decodeWithBrowser(bytes: Uint8Array, format: keyof typeof MIME, orientation: 'from-image' | 'none' = 'from-image'): Promise<Image8> {
  if (!canDecodeWithBrowser()) throw new UnsupportedImageError('this environment has no createImageBitmap/canvas', 'use decodeImage in Node or a browser');
  let bitmap: ImageBitmap;
  try {
    const blob = new Blob([bytes.slice().buffer as ArrayBuffer], { type: MIME[format] });
    bitmap = await createImageBitmap(blob, {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
      imageOrientation: orientation === 'none' ? ('none' as ImageOrientation) : 'from-image',
    });
  } catch (e) {
    throw new CorruptImageError(`the browser could not decode this ${format.toUpperCase()}: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
  try {
    const { width, height } = bitmap;
    const canvas: OffscreenCanvas | HTMLCanvasElement =
      typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
    const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
    if (!ctx) throw new UnsupportedImageError('could not get a 2D canvas context to read pixels');
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(bitmap, 0, 0);
    const pixels = ctx.getImageData(0, 0, width, height).data;
    return { data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength), width, height, channels: 4 };
  } finally {
    bitmap.close();
  }
}
