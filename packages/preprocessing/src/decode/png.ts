import { decode as decodePngData, convertIndexedToRgb } from 'fast-png';
import { CorruptImageError } from '../errors.js';
import type { Image8 } from '../image.js';

/**
 * Decodes a PNG with fast-png (pure JS, identical in Node and browsers) to 8
 * bits per channel: palettes are expanded, 1/2/4-bit gray is scaled to 0..255
 * like Pillow's "L;1/2/4" raw modes, 16-bit samples keep their high byte.
 */
export function decodePng(bytes: Uint8Array): Image8 {
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
