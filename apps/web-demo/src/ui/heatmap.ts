import { colormap, minMaxNormalize } from '../attention/colormap.js';

export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/**
 * A canvas holding the patch grid, one pixel per patch, colored by the map
 * and as opaque as it is strong, so the image shows through where attention is low.
 */
function gridCanvas(values: ArrayLike<number>, grid: [number, number], fade: boolean): HTMLCanvasElement {
  const [rows, cols] = grid;
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  const img = new ImageData(cols, rows);
  const norm = minMaxNormalize(values);
  for (let i = 0; i < rows * cols; i++) {
    const [r, g, b] = colormap(norm[i]!);
    img.data.set([r, g, b, fade ? Math.round(255 * norm[i]!) : 255], i * 4);
  }
  canvas.getContext('2d')!.putImageData(img, 0, 0);
  return canvas;
}

/**
 * Draws the model's input with the map over it: the image scaled up
 * without smoothing (pixels stay pixels), the map with smoothing (patches
 * blend), blended with `opacity`.
 */
export function drawOverlay(canvas: HTMLCanvasElement, image: RgbaImage, values: ArrayLike<number> | undefined, grid: [number, number], opacity: number): void {
  const longest = 448;
  const scale = longest / Math.max(image.width, image.height);
  canvas.width = Math.round(image.width * scale);
  canvas.height = Math.round(image.height * scale);
  const ctx = canvas.getContext('2d')!;
  const source = document.createElement('canvas');
  source.width = image.width;
  source.height = image.height;
  source.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.rgba), image.width, image.height), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  if (!values || opacity <= 0) return;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.globalAlpha = opacity;
  ctx.drawImage(gridCanvas(values, grid, true), 0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = 1;
}

/** A small map on its own (for the per-head thumbnails). */
export function drawThumbnail(canvas: HTMLCanvasElement, values: ArrayLike<number>, grid: [number, number]): void {
  const [rows, cols] = grid;
  canvas.width = cols * 4;
  canvas.height = rows * 4;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(gridCanvas(values, grid, false), 0, 0, canvas.width, canvas.height);
}
