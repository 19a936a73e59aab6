import type { Interpolation } from './resize/filters.js';

/**
 * How to bring an image to the model's input size. Each kind mirrors one
 * Python transform so that sizes are computed with the same rounding:
 * - `shortest-edge`: torchvision `Resize(int)` / HF `{shortest_edge}`: the
 *   shorter side becomes `size`, the longer int(size * long / short).
 * - `exact`: stretch to height x width (HF ViT, timm crop_mode 'squash').
 * - `keep-ratio`: timm `ResizeKeepRatio`: scale by the ratio of the shorter
 *   (`fit: 'shorter'`) or longer (`fit: 'longer'`) side, rounding half to even.
 */
export type ResizeSpec =
  | { kind: 'shortest-edge'; size: number; maxSize?: number; interpolation: Interpolation }
  | { kind: 'exact'; height: number; width: number; interpolation: Interpolation }
  | { kind: 'keep-ratio'; height: number; width: number; fit: 'shorter' | 'longer'; interpolation: Interpolation };

/**
 * Cut the center to height x width, padding with `fill` first where the image
 * is smaller. `convention` picks how odd margins are split: torchvision (and
 * timm) round half to even; Hugging Face floors the offset and pads the extra
 * pixel on the top/left.
 */
export interface CropSpec {
  height: number;
  width: number;
  convention: 'torchvision' | 'hf';
  /** Pad value per channel in 0..255 levels (default 0). */
  fill?: [number, number, number];
}

/** A complete preprocessing recipe: geometry on 8-bit pixels, then rescale and normalize in float32. */
export interface PreprocessSpec {
  resize?: ResizeSpec;
  crop?: CropSpec;
  /** Multiply levels by this (1/255 maps 0..255 to 0..1); omit to keep levels. */
  rescale?: number;
  /** Per-channel mean and std for (x - mean) / std; omit both to skip normalization. */
  mean?: [number, number, number];
  std?: [number, number, number];
}

/** Mean/std pairs used by the common ecosystems. */
export const NORMALIZATION = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  inception: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  clip: { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] },
} as const satisfies Record<string, { mean: readonly number[]; std: readonly number[] }>;

export type NormalizationName = keyof typeof NORMALIZATION;

export function normalization(name: NormalizationName): { mean: [number, number, number]; std: [number, number, number] } {
  const n = NORMALIZATION[name];
  return { mean: [...n.mean] as [number, number, number], std: [...n.std] as [number, number, number] };
}
