/**
 * YCbCr -> RGB as libjpeg (and so Pillow and browsers) converts it: JFIF
 * coefficients in 16-bit fixed point, rounded, then clamped. jpeg-js's own
 * conversion truncates instead, which darkens every pixel by ~0.5 level on
 * average, so we ask it for raw YCbCr and convert here.
 */
const SCALE_BITS = 16;
const ONE_HALF = 1 << (SCALE_BITS - 1);
const fix = (x: number): number => Math.trunc(x * (1 << SCALE_BITS) + 0.5);

const crR = new Int32Array(256);
const cbB = new Int32Array(256);
const crG = new Int32Array(256);
const cbG = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  crR[i] = (fix(1.402) * x + ONE_HALF) >> SCALE_BITS;
  cbB[i] = (fix(1.772) * x + ONE_HALF) >> SCALE_BITS;
  crG[i] = -fix(0.71414) * x;
  cbG[i] = -fix(0.34414) * x + ONE_HALF;
}

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Converts interleaved Y, Cb, Cr triples to RGB in place. */
export function ycbcrToRgbInPlace(data: Uint8Array): void {
  for (let i = 0; i < data.length; i += 3) {
    const y = data[i]!;
    const cb = data[i + 1]!;
    const cr = data[i + 2]!;
    data[i] = clamp8(y + crR[cr]!);
    data[i + 1] = clamp8(y + ((cbG[cb]! + crG[cr]!) >> SCALE_BITS));
    data[i + 2] = clamp8(y + cbB[cb]!);
  }
}

/** Component count of the first frame header and whether an Adobe APP14 marker is present. */
export function jpegLayout(b: Uint8Array): { components: number; adobe: boolean } {
  let i = 2;
  let adobe = false;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1]!;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    if (marker === 0xee && len >= 7 && String.fromCharCode(b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!) === 'Adobe') adobe = true;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { components: b[i + 9] ?? 0, adobe };
    if (marker === 0xda || len < 2) break;
    i += 2 + len;
  }
  return { components: 0, adobe };
}
