import type { Image8 } from '../image.js';
import type { Orientation } from './exif.js';

/**
 * Turns an image upright according to its EXIF orientation, as Pillow's
 * `ImageOps.exif_transpose` does (2 mirror, 3 rotate 180, 4 flip, 5 transpose,
 * 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise).
 */
export function applyOrientation(image: Image8, orientation: Orientation): Image8 {
  if (orientation === 1) return image;
  const { width: w, height: h, channels: c, data } = image;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        default: sx = w - 1 - y; sy = x; break; // 8
      }
      const s = (sy * w + sx) * c;
      const d = (y * ow + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = data[s + k]!;
    }
  }
  return { data: out, width: ow, height: oh, channels: c };
}
