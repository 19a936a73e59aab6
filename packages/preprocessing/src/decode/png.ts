import { decode as decodePngData, convertIndexedToRgb } from 'fast-png';
import { CorruptImageError } from '../errors.js';
import type { Image8 } from '../image.js';
import { zlibSizeWithin } from './inflate.js';

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * The exact number of bytes the IDAT stream of this header must inflate to:
 * each row is a filter byte plus its packed samples; interlaced images store
 * seven reduced images. Undefined for headers fast-png will refuse anyway.
 */
export function pngRawSize(width: number, height: number, depth: number, colorType: number, interlace: number): number | undefined {
  const channels = CHANNELS[colorType];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth) || interlace > 1) return undefined;
  const rowBytes = (w: number) => Math.ceil((w * channels * depth) / 8);
  if (interlace === 0) return height * (1 + rowBytes(width));
  let total = 0;
  for (const [xs, ys, dx, dy] of ADAM7) {
    const w = width > xs ? Math.ceil((width - xs) / dx) : 0;
    const h = height > ys ? Math.ceil((height - ys) / dy) : 0;
    if (w > 0 && h > 0) total += h * (1 + rowBytes(w));
  }
  return total;
}

/**
 * fast-png inflates IDAT without any limit, so a tiny file can expand to
 * gigabytes. Walk the chunks first and inflate the IDAT stream with a count
 * that stops one byte past what IHDR promises.
 */
function checkInflatedSize(bytes: Uint8Array): void {
  if (bytes.length < 33) return; // fast-png reports the truncation
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const expected = pngRawSize(width, height, bytes[24]!, bytes[25]!, bytes[28]!);
  if (expected === undefined) return;
  const idat: Uint8Array[] = [];
  let at = 8;
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    const end = Math.min(bytes.length, at + 8 + length);
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, end));
    if (type === 'IEND') break;
    at = end + 4;
  }
  const outcome = zlibSizeWithin(idat, expected);
  if (outcome.kind === 'over') {
    throw new CorruptImageError(`PNG image data inflates to more than the ${expected} bytes its ${width}x${height} header needs (a decompression bomb?)`);
  }
}

/**
 * Decodes a PNG with fast-png (pure JS, identical in Node and browsers) to 8
 * bits per channel: palettes are expanded, 1/2/4-bit gray is scaled to 0..255
 * like Pillow's "L;1/2/4" raw modes, 16-bit samples keep their high byte.
 */
export function decodePng(bytes: Uint8Array): Image8 {
  checkInflatedSize(bytes);
  let png;
  try {
    png = decodePngData(bytes, { checkCrc: true });
  } catch (e) {
    throw new CorruptImageError(`PNG could not be decoded: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
  const { width, height, depth } = png;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    const channels = rgb.length / (width * height);
    if (channels !== 3 && channels !== 4) throw new CorruptImageError('PNG palette expansion gave an unexpected size');
    return { data: rgb, width, height, channels };
  }
  const channels = png.channels;
  const n = width * height * channels;
  const src = png.data;
  if (depth === 8) {
    if (src.length < n) throw new CorruptImageError('PNG pixel data is truncated');
    return { data: src instanceof Uint8Array && src.length === n ? src : new Uint8Array(src.subarray(0, n)), width, height, channels };
  }
  const out = new Uint8Array(n);
  if (depth === 16) {
    if (src.length < n) throw new CorruptImageError('PNG pixel data is truncated');
    for (let i = 0; i < n; i++) out[i] = src[i]! >> 8;
    return { data: out, width, height, channels };
  }
  // Sub-byte gray: rows are packed MSB-first and padded to whole bytes.
  const perByte = 8 / depth;
  const rowBytes = Math.ceil((width * channels) / perByte);
  if (src.length < rowBytes * height) throw new CorruptImageError('PNG pixel data is truncated');
  const max = (1 << depth) - 1;
  const scale = 255 / max;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * channels; x++) {
      const byte = src[y * rowBytes + Math.floor(x / perByte)]!;
      const shift = 8 - depth * ((x % perByte) + 1);
      out[y * width * channels + x] = ((byte >> shift) & max) * scale;
    }
  }
  return { data: out, width, height, channels };
}
