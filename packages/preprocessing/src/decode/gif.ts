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
 * Walks a frame's LZW stream exactly as omggif's decoder does, without
 * writing pixels, and throws where omggif would loop forever: a corrupt
 * stream can link the code table into a cycle, and omggif chases prefixes
 * without a bound (seen by pnpm fuzz). Linear in the stream length.
 */
export function checkLzwStream(buf: Uint8Array, start: number, outputLength: number): void {
  let p = start;
  const minCodeSize = buf[p++] ?? 0;
  const clearCode = 1 << minCodeSize;
  const eoiCode = clearCode + 1;
  let nextCode = eoiCode + 1;
  let curCodeSize = minCodeSize + 1;
  let codeMask = (1 << curCodeSize) - 1;
  let curShift = 0;
  let cur = 0;
  let op = 0;
  let subblockSize = buf[p++] ?? 0;
  const table = new Int32Array(4096);
  let prevCode: number | null = null;
  for (;;) {
    while (curShift < 16) {
      if (subblockSize === 0) break;
      cur |= (buf[p++] ?? 0) << curShift;
      curShift += 8;
      if (subblockSize === 1) subblockSize = buf[p++] ?? 0;
      else --subblockSize;
    }
    if (curShift < curCodeSize) return;
    const code = cur & codeMask;
    cur >>= curCodeSize;
    curShift -= curCodeSize;
    if (code === clearCode) {
      nextCode = eoiCode + 1;
      curCodeSize = minCodeSize + 1;
      codeMask = (1 << curCodeSize) - 1;
      prevCode = null;
      continue;
    } else if (code === eoiCode) return;
    const chaseCode = code < nextCode ? code : prevCode;
    let chaseLength = 0;
    let chase = chaseCode as number;
    while (chase > clearCode) {
      chase = table[chase]! >> 8;
      if (++chaseLength > 4096) throw new Error('LZW code table has a cycle (corrupt image data)');
    }
    const k = chase;
    op += chaseLength + (chaseCode !== code ? 1 : 0) + 1;
    if (op - 1 > outputLength) return;
    if (prevCode !== null && nextCode < 4096) {
      table[nextCode++] = (prevCode << 8) | k;
      if (nextCode >= codeMask + 1 && curCodeSize < 12) {
        ++curCodeSize;
        codeMask = (codeMask << 1) | 1;
      }
    }
    prevCode = code;
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
    const first = reader.frameInfo(0);
    checkLzwStream(bytes, first.data_offset, first.width * first.height);
    const rgba = new Uint8Array(width * height * 4);
    const { messages } = withCapturedLog(() => reader.decodeAndBlitFrameRGBA(0, rgba));
    if (messages.some((m) => /shorter than expected/.test(m))) throw new Error('image data is truncated');
    return { data: rgba, width, height, channels: 4 };
  } catch (e) {
    if (e instanceof ImageTooLargeError) throw e;
    throw new CorruptImageError(`GIF could not be decoded: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
}
