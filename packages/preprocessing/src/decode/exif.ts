import type { ImageFormat } from './sniff.js';

/**
 * EXIF orientation tag values 1..8 (1 = as stored). Cameras store pixels in
 * sensor order and record how to turn them upright here; Pillow users apply
 * it with `ImageOps.exif_transpose`, browsers with imageOrientation 'from-image'.
 */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

const ORIENTATION_TAG = 0x0112;

/** Reads the orientation from a TIFF-structured EXIF block; 1 when absent or unreadable. */
export function orientationFromTiff(t: Uint8Array): Orientation {
  if (t.length < 8) return 1;
  const little = t[0] === 0x49 && t[1] === 0x49;
  const big = t[0] === 0x4d && t[1] === 0x4d;
  if (!little && !big) return 1;
  const u16 = (i: number): number => (little ? t[i]! | (t[i + 1]! << 8) : (t[i]! << 8) | t[i + 1]!);
  const u32 = (i: number): number =>
    (little ? t[i]! | (t[i + 1]! << 8) | (t[i + 2]! << 16) | (t[i + 3]! << 24) : (t[i]! << 24) | (t[i + 1]! << 16) | (t[i + 2]! << 8) | t[i + 3]!) >>> 0;
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > t.length) return 1;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > t.length) return 1;
    if (u16(e) === ORIENTATION_TAG) {
      const v = u16(e + 8); // SHORT values are left-aligned in the 4-byte value field
      return v >= 1 && v <= 8 ? (v as Orientation) : 1;
    }
  }
  return 1;
}

const EXIF_PREFIX = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"

function stripExifPrefix(b: Uint8Array): Uint8Array {
  return EXIF_PREFIX.every((v, i) => b[i] === v) ? b.subarray(6) : b;
}

function jpegExif(b: Uint8Array): Uint8Array | undefined {
  let i = 2;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1]!;
    if (marker === 0xda || marker === 0xd9) return undefined; // image data starts: no more metadata
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    if (len < 2) return undefined;
    if (marker === 0xe1) {
      const seg = b.subarray(i + 4, Math.min(b.length, i + 2 + len));
      if (EXIF_PREFIX.every((v, k) => seg[k] === v)) return seg.subarray(6);
    }
    i += 2 + len;
  }
  return undefined;
}

function pngExif(b: Uint8Array): Uint8Array | undefined {
  let i = 8;
  while (i + 8 <= b.length) {
    const len = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
    const type = String.fromCharCode(b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
    if (type === 'eXIf') return stripExifPrefix(b.subarray(i + 8, Math.min(b.length, i + 8 + len)));
    if (type === 'IEND') return undefined;
    i += 12 + len;
  }
  return undefined;
}

function webpExif(b: Uint8Array): Uint8Array | undefined {
  let i = 12;
  while (i + 8 <= b.length) {
    const type = String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    const len = (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) >>> 0;
    if (type === 'EXIF') return stripExifPrefix(b.subarray(i + 8, Math.min(b.length, i + 8 + len)));
    i += 8 + len + (len & 1); // chunks are padded to even sizes
  }
  return undefined;
}

/** The EXIF orientation stored in a file (JPEG APP1, PNG eXIf, WebP EXIF); 1 if none. */
export function readOrientation(bytes: Uint8Array, format: ImageFormat): Orientation {
  const tiff = format === 'jpeg' ? jpegExif(bytes) : format === 'png' ? pngExif(bytes) : format === 'webp' ? webpExif(bytes) : undefined;
  return tiff ? orientationFromTiff(tiff) : 1;
}
