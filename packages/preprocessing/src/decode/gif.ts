import omggif from 'omggif';
import { CorruptImageError, ImageTooLargeError } from '../errors.js';
import type { Image8 } from '../image.js';

/**
 * omggif reports LZW streams of the wrong length with console.log and goes
 * on. The call is synchronous, so we capture those messages for its duration:
 * a short stream means a truncated file (an error, as in Pillow), a long one
 * is harmless trailing data.
 */
function withCapturedLog<T>(run: () => T): { value: T; messages: string[] } {
  const messages: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void messages.push(args.map(String).join(' '));
  try {
    return { value: run(), messages };
  } finally {
    console.log = original;
  }
}

/**
 * Decodes the first frame of a GIF as RGBA on its logical screen, the frame
 * Pillow shows when it opens the file (transparent pixels are 0,0,0,0).
 */
export function decodeGif(bytes: Uint8Array, maxPixels = Infinity): Image8 {
  try {
    const reader = new omggif.GifReader(bytes);
    if (reader.numFrames() < 1) throw new Error('no frames');
    const { width, height } = reader;
    // omggif allocates width x height bytes for a frame before decoding it, whatever the logical screen says.
    for (let i = 0; i < reader.numFrames(); i++) {
      const frame = reader.frameInfo(i);
      if (frame.width * frame.height > maxPixels) throw new ImageTooLargeError(frame.width, frame.height, maxPixels);
    }
    const rgba = new Uint8Array(width * height * 4);
    const { messages } = withCapturedLog(() => reader.decodeAndBlitFrameRGBA(0, rgba));
    if (messages.some((m) => /shorter than expected/.test(m))) throw new Error('image data is truncated');
    return { data: rgba, width, height, channels: 4 };
  } catch (e) {
    if (e instanceof ImageTooLargeError) throw e;
    throw new CorruptImageError(`GIF could not be decoded: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
}
