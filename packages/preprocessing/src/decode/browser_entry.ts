import type { DecodedImage, DecodeOptions, ImageBytes } from './decode.js';
import { asBytes, inspectImage } from './decode.js';
import { readOrientation } from './exif.js';
import { decodeWithBrowser } from './browser_decode.js';

/**
 * Decodes image bytes with the browser's native decoder (createImageBitmap at
 * natural size, no premultiplication, no color conversion, EXIF orientation
 * from the image) after the same header checks as decodeImage, so that a
 * decompression bomb is refused before the browser allocates it.
 */
export async function decodeImageNative(input: ImageBytes | Blob, options: DecodeOptions = {}): Promise<DecodedImage> {
  const bytes = typeof Blob !== 'undefined' && input instanceof Blob ? new Uint8Array(await input.arrayBuffer()) : asBytes(input as ImageBytes);
  const { format } = inspectImage(bytes, options);
  const image = await decodeWithBrowser(bytes, format, options.applyExifOrientation === false ? 'none' : 'from-image');
  return { ...image, format, orientation: readOrientation(bytes, format) };
}
