import { CorruptImageError, UnsupportedImageError } from '../errors.js';
import type { ImageFormat } from './sniff.js';

/** Pixel dimensions read from a file's header, before any pixel data is touched. */
export interface HeaderSize {
  width: number;
  height: number;
}

const u16be = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

function truncated(format: string): CorruptImageError {
  return new CorruptImageError(`${format} header is truncated`);
}

function pngSize(b: Uint8Array): HeaderSize {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4).
  if (b.length < 24) throw truncated('PNG');
  if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') throw new CorruptImageError('PNG does not start with an IHDR chunk');
  return { width: u32be(b, 16), height: u32be(b, 20) };
}

/** Walks JPEG marker segments up to the first start-of-frame marker. */
function jpegSize(b: Uint8Array): HeaderSize {
  let i = 2;
  while (i < b.length) {
    if (b[i] !== 0xff) throw new CorruptImageError(`JPEG marker expected at byte ${i}`);
    while (i < b.length && b[i] === 0xff) i++; // fill bytes
    if (i >= b.length) break;
    const marker = b[i]!;
    i++;
    // Markers without a length field.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda) throw new CorruptImageError('JPEG has no frame header before its image data');
    if (i + 2 > b.length) break;
    const len = u16be(b, i);
    if (len < 2) throw new CorruptImageError(`JPEG segment at byte ${i} has invalid length ${len}`);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 7 > b.length) break;
      return { height: u16be(b, i + 3), width: u16be(b, i + 5) };
    }
    i += len;
  }
  throw truncated('JPEG');
}

function gifSize(b: Uint8Array): HeaderSize {
  if (b.length < 10) throw truncated('GIF');
  return { width: u16le(b, 6), height: u16le(b, 8) };
}

/** WebP: simple lossy (VP8), lossless (VP8L) or extended (VP8X, canvas size). */
function webpSize(b: Uint8Array): HeaderSize {
  if (b.length < 30) throw truncated('WebP');
  const chunk = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
  if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw new CorruptImageError('WebP lossless stream has a bad signature');
    const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw new CorruptImageError('WebP lossy stream has a bad start code');
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  throw new UnsupportedImageError(`WebP first chunk "${chunk}" is not VP8, VP8L or VP8X`);
}

/** Reads the image size from the header of a PNG, JPEG, GIF or WebP file. */
export function readHeaderSize(bytes: Uint8Array, format: ImageFormat): HeaderSize {
  switch (format) {
    case 'png':
      return pngSize(bytes);
    case 'jpeg':
      return jpegSize(bytes);
    case 'gif':
      return gifSize(bytes);
    case 'webp':
      return webpSize(bytes);
  }
}
