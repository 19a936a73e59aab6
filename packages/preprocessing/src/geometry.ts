import { ConfigError } from '@vitkit/core';
import type { CropSpec, ResizeSpec } from './spec.js';

/** Python's round(): halves go to the even neighbour (torchvision and timm use it for offsets and sizes). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The [width, height] a resize spec gives an image of the given size. */
export function resizedSize(spec: ResizeSpec, width: number, height: number): [number, number] {
  switch (spec.kind) {
    case 'exact':
      return [spec.width, spec.height];
    case 'shortest-edge': {
      const short = Math.min(width, height);
      const long = Math.max(width, height);
      let newShort = spec.size;
      // Python: int(size * long / short), evaluated left to right in doubles.
      let newLong = Math.trunc((spec.size * long) / short);
      if (spec.maxSize !== undefined && newLong > spec.maxSize) {
        newShort = Math.trunc((spec.maxSize * newShort) / newLong);
        newLong = spec.maxSize;
      }
      return width <= height ? [newShort, newLong] : [newLong, newShort];
    }
    case 'keep-ratio': {
      const rh = height / spec.height;
      const rw = width / spec.width;
      const ratio = spec.fit === 'longer' ? Math.max(rh, rw) : Math.min(rh, rw);
      return [Math.max(1, roundHalfEven(width / ratio)), Math.max(1, roundHalfEven(height / ratio))];
    }
  }
}

/** Where the center crop window lies, after padding the image by `pad` (left, top, right, bottom). */
export interface CropPlan {
  pad: [number, number, number, number];
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The padding and window of a center crop of an image of the given size. */
export function cropPlan(spec: CropSpec, width: number, height: number): CropPlan {
  const { width: cw, height: ch } = spec;
  if (spec.convention === 'hf') {
    // HF image_transforms.center_crop: floor offsets; padding puts the extra pixel on top/left (ceil).
    const pw = Math.max(cw, width);
    const ph = Math.max(ch, height);
    const padLeft = Math.ceil((pw - width) / 2);
    const padTop = Math.ceil((ph - height) / 2);
    const left = Math.max(0, Math.floor((width - cw) / 2) + padLeft);
    const top = Math.max(0, Math.floor((height - ch) / 2) + padTop);
    return { pad: [padLeft, padTop, pw - width - padLeft, ph - height - padTop], left, top, width: cw, height: ch };
  }
  // torchvision F.center_crop: pad (floor on left/top) when the crop is larger, then round((size - crop) / 2).
  const padLeft = cw > width ? Math.floor((cw - width) / 2) : 0;
  const padTop = ch > height ? Math.floor((ch - height) / 2) : 0;
  const padRight = cw > width ? Math.floor((cw - width + 1) / 2) : 0;
  const padBottom = ch > height ? Math.floor((ch - height + 1) / 2) : 0;
  const pw = width + padLeft + padRight;
  const ph = height + padTop + padBottom;
  return {
    pad: [padLeft, padTop, padRight, padBottom],
    left: roundHalfEven((pw - cw) / 2),
    top: roundHalfEven((ph - ch) / 2),
    width: cw,
    height: ch,
  };
}

/**
 * Copies the window [left, left + width) x [top, top + height) of an HWC
 * image, reading `fill` outside it: one step that pads and crops.
 */
export function cropWithFill<T extends Uint8Array | Float32Array>(
  data: T,
  srcW: number,
  srcH: number,
  channels: number,
  left: number,
  top: number,
  width: number,
  height: number,
  fill: ArrayLike<number> = [0, 0, 0, 0],
): T {
  const out = (data instanceof Uint8Array ? new Uint8Array(width * height * channels) : new Float32Array(width * height * channels)) as T;
  for (let y = 0; y < height; y++) {
    const sy = top + y;
    for (let x = 0; x < width; x++) {
      const sx = left + x;
      const d = (y * width + x) * channels;
      if (sy < 0 || sy >= srcH || sx < 0 || sx >= srcW) {
        for (let k = 0; k < channels; k++) out[d + k] = fill[k] ?? 0;
      } else {
        const s = (sy * srcW + sx) * channels;
        for (let k = 0; k < channels; k++) out[d + k] = data[s + k]!;
      }
    }
  }
  return out;
}

export function checkPositiveInt(what: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}
