import { VitkitError } from '@vitkit/core';

/**
 * The bytes are not an image this package can read: an unknown format, a
 * non-image file, or a variant we do not decode (e.g. CMYK JPEG, APNG frames).
 */
export class UnsupportedImageError extends VitkitError {
  constructor(reason: string, hint = 'use a PNG, JPEG, WebP or GIF file with 8-bit RGB(A) or grayscale pixels') {
    super('E_IMAGE_UNSUPPORTED', reason, hint);
  }
}

/** The bytes look like an image but are damaged: empty, truncated or corrupt. */
export class CorruptImageError extends VitkitError {
  constructor(reason: string, hint = 'the file is damaged or truncated; re-export or re-download it', options?: { cause?: unknown }) {
    super('E_IMAGE_CORRUPT', reason, hint, options);
  }
}

/**
 * The header claims more pixels than allowed. Refused before any pixel memory
 * is allocated, so a "decompression bomb" cannot exhaust memory.
 */
export class ImageTooLargeError extends VitkitError {
  readonly width: number;
  readonly height: number;
  readonly maxPixels: number;

  constructor(width: number, height: number, maxPixels: number) {
    super(
      'E_IMAGE_TOO_LARGE',
      `image is ${width}x${height} = ${width * height} pixels, more than the limit of ${maxPixels}`,
      'downscale the image first, or raise the limit with the maxPixels option if you trust the file',
    );
    this.width = width;
    this.height = height;
    this.maxPixels = maxPixels;
  }
}
