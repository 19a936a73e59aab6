import { VitkitError } from '@vitkit/core';
import {
  normalizePixels,
  planFor,
  prepareGeometry,
  presetSpec,
  specFromHfConfig,
  specFromTimmConfig,
  type Image8,
  type PreprocessSpec,
} from '@vitkit/preprocessing';
import { InputError } from './errors.js';

/** Exact resize to the model's size, then rescale to [0, 1] and normalize with `mean`/`std`. */
function stretch(size: [number, number], mean: number, std: number): PreprocessSpec {
  return {
    resize: { kind: 'exact', height: size[0], width: size[1], interpolation: 'bilinear' },
    rescale: 1 / 255,
    mean: [mean, mean, mean],
    std: [std, std, std],
  };
}

/** The spec behind each of the page's choices (PREPROCESS_CHOICES), for a model of this input size. */
export function choiceSpec(choice: string, size: [number, number]): PreprocessSpec {
  switch (choice) {
    case 'hf':
    case 'timm':
    case 'torchvision':
      // The ecosystems' recipes are defined for square inputs; others get the stretch.
      return size[0] === size[1] ? presetSpec(choice, { size: size[0] }) : stretch(size, 0.5, 0.5);
    case 'fashion-mnist':
      return stretch(size, 0.286, 0.353);
    case 'unit': {
      const spec = stretch(size, 0, 1);
      delete spec.mean;
      delete spec.std;
      return spec;
    }
    default:
      throw new InputError(`unknown preprocessing "${choice}"`, 'pick one from the list');
  }
}

/** What a spec produces from a width x height image. */
export function outputSize(spec: PreprocessSpec, width: number, height: number): [number, number] {
  const plan = planFor(spec, width, height);
  return [plan.outHeight, plan.outWidth];
}

export interface PreprocessedImage {
  /** [height, width, channels] float32, normalized. */
  data: Float32Array;
  /** The 8-bit image the model saw (after resize, crop and inversion), RGBA for display. */
  view: { width: number; height: number; data: Uint8ClampedArray };
}

/**
 * Decoded pixels -> model input with @vitkit/preprocessing (Pillow-exact
 * resize and crop, float32 normalization as torch does it). One-channel
 * models get luma as Pillow's convert('L') computes it, so gray images stay
 * exact.
 */
export function preprocessImage(image: Image8, spec: PreprocessSpec, size: [number, number], channels: number, invert: boolean): PreprocessedImage {
  if (channels !== 1 && channels !== 3) {
    throw new InputError(`the model takes ${channels}-channel inputs; images can only feed 1- or 3-channel models`, 'give the model a .npy input instead');
  }
  const [h, w] = outputSize(spec, image.width, image.height);
  if (h !== size[0] || w !== size[1]) {
    throw new InputError(
      `this preprocessing makes ${w}×${h} inputs but the model takes ${size[1]}×${size[0]}`,
      'pick another preprocessing (Hugging Face ViT stretches to any size)',
    );
  }
  const alpha = image.channels === 2 || image.channels === 4 ? image.channels - 1 : -1;
  const source = invert ? { ...image, data: image.data.map((v, i) => (i % image.channels === alpha ? v : 255 - v)) } : image;
  const rgb = prepareGeometry(source, spec) as Image8;
  const n = rgb.width * rgb.height;
  const view = new Uint8ClampedArray(n * 4);
  let levels = rgb.data;
  if (channels === 1) {
    levels = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const l = (rgb.data[i * 3]! * 19595 + rgb.data[i * 3 + 1]! * 38470 + rgb.data[i * 3 + 2]! * 7471 + 0x8000) >> 16;
      levels[i * 3] = levels[i * 3 + 1] = levels[i * 3 + 2] = l;
    }
  }
  for (let i = 0; i < n; i++) {
    view[i * 4] = levels[i * 3]!;
    view[i * 4 + 1] = levels[i * 3 + 1]!;
    view[i * 4 + 2] = levels[i * 3 + 2]!;
    view[i * 4 + 3] = 255;
  }
  const normalized = normalizePixels(levels, spec);
  const data = channels === 3 ? normalized : normalized.filter((_, i) => i % 3 === 0);
  return { data, view: { width: rgb.width, height: rgb.height, data: view } };
}

/** The fixed output size of a spec, when it has one (a crop, or an exact resize). */
function fixedOutput(spec: PreprocessSpec): [number, number] | undefined {
  if (spec.crop) return [spec.crop.height, spec.crop.width];
  if (spec.resize?.kind === 'exact') return [spec.resize.height, spec.resize.width];
  return undefined;
}

/** A one-value mean/std (gray datasets) applies to all three channels. */
function broadcastMeanStd(json: unknown): unknown {
  if (typeof json !== 'object' || json === null) return json;
  const out: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  for (const key of ['image_mean', 'image_std', 'mean', 'std']) {
    const v = out[key];
    if (Array.isArray(v) && v.length === 1) out[key] = [v[0], v[0], v[0]];
  }
  return out;
}

export interface ModelPreprocessing {
  spec: PreprocessSpec;
  /** Where it came from, for display. */
  name: string;
}

/**
 * The model's own preprocessing: its preprocessor_config.json (Hugging Face,
 * and what `vit train` writes), else a timm config.json's pretrained_cfg,
 * else the Hugging Face ViT default. A recipe that would not produce the
 * model's input size is replaced by the default.
 */
export function modelPreprocessing(sidecars: { config?: unknown; preprocessor?: unknown }, size: [number, number]): ModelPreprocessing {
  let found: ModelPreprocessing | undefined;
  try {
    if (sidecars.preprocessor !== undefined) found = { spec: specFromHfConfig(broadcastMeanStd(sidecars.preprocessor)), name: 'preprocessor_config.json' };
    else if (detectsTimm(sidecars.config)) found = { spec: specFromTimmConfig(broadcastMeanStd(sidecars.config)), name: 'timm pretrained_cfg' };
  } catch (e) {
    if (!(e instanceof VitkitError)) throw e;
    found = undefined;
  }
  const out = found ? fixedOutput(found.spec) : undefined;
  if (found && out && out[0] === size[0] && out[1] === size[1]) return found;
  return { spec: choiceSpec('hf', size), name: found ? `hf default (${found.name} does not fit ${size[1]}×${size[0]})` : 'hf default' };
}

function detectsTimm(config: unknown): boolean {
  return typeof config === 'object' && config !== null && 'pretrained_cfg' in config;
}
