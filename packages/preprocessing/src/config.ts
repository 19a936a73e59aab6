import { ConfigError } from '@vitkit/core';
import { isInterpolation, PIL_RESAMPLE, type Interpolation } from './resize/filters.js';
import { NORMALIZATION, type PreprocessSpec, type ResizeSpec } from './spec.js';
import { validateSpec } from './validate.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(cfg: Json, key: string, fallback: number): number {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(cfg: Json, key: string, fallback: boolean): boolean {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function rgb(cfg: Json, key: string, fallback: readonly number[]): [number, number, number] {
  const v = cfg[key] ?? fallback;
  // One value (a number or a 1-element list, as gray-image processors write) applies to every channel.
  const arr = typeof v === 'number' ? [v, v, v] : Array.isArray(v) && v.length === 1 ? [v[0], v[0], v[0]] : v;
  if (!Array.isArray(arr) || arr.length !== 3 || arr.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new ConfigError(`${key} must be 3 numbers, got ${JSON.stringify(v)}`);
  }
  return arr as [number, number, number];
}

/** A HF size field: {height, width}, {shortest_edge}, or a bare int (square, or shortest edge for CLIP-style processors). */
function hfSize(v: unknown, key: string, squareInt: boolean): { height: number; width: number } | { shortestEdge: number } {
  if (typeof v === 'number') return squareInt ? { height: v, width: v } : { shortestEdge: v };
  if (isObject(v)) {
    if (typeof v.height === 'number' && typeof v.width === 'number') return { height: v.height, width: v.width };
    if (typeof v.shortest_edge === 'number') {
      if (v.longest_edge !== undefined) {
        throw new ConfigError(`${key} with both shortest_edge and longest_edge is not supported`, 'use {height, width} or {shortest_edge}');
      }
      return { shortestEdge: v.shortest_edge };
    }
  }
  throw new ConfigError(`${key} must be {"height", "width"}, {"shortest_edge"} or an integer, got ${JSON.stringify(v)}`);
}

/**
 * Reads a Hugging Face `preprocessor_config.json` (ViTImageProcessor and
 * CLIP-style fields) into a spec. Missing fields take ViTImageProcessor's
 * defaults: 224x224 bilinear, rescale 1/255, mean = std = 0.5.
 */
export function specFromHfConfig(cfg: unknown): PreprocessSpec {
  if (!isObject(cfg)) throw new ConfigError('preprocessor config must be a JSON object');
  const type = String(cfg.image_processor_type ?? cfg.feature_extractor_type ?? '');
  const clipLike = /clip|siglip/i.test(type);
  const spec: PreprocessSpec = {};
  if (bool(cfg, 'do_resize', true)) {
    const resampleId = num(cfg, 'resample', clipLike ? 3 : 2);
    const interpolation = PIL_RESAMPLE[resampleId];
    if (!interpolation) throw new ConfigError(`resample ${resampleId} is not a PIL filter`, 'use 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming');
    const size = hfSize(cfg.size ?? { height: 224, width: 224 }, 'size', !clipLike);
    spec.resize =
      'shortestEdge' in size
        ? { kind: 'shortest-edge', size: size.shortestEdge, interpolation }
        : { kind: 'exact', height: size.height, width: size.width, interpolation };
  }
  // CLIPImageProcessor center-crops by default; SiglipImageProcessor has no crop at all.
  if (bool(cfg, 'do_center_crop', /clip/i.test(type))) {
    const crop = hfSize(cfg.crop_size ?? { height: 224, width: 224 }, 'crop_size', true);
    if ('shortestEdge' in crop) throw new ConfigError('crop_size must be {height, width} or an integer');
    spec.crop = { height: crop.height, width: crop.width, convention: 'hf' };
  }
  if (bool(cfg, 'do_rescale', true)) spec.rescale = num(cfg, 'rescale_factor', 1 / 255);
  if (bool(cfg, 'do_normalize', true)) {
    const defaults = clipLike && /clip/i.test(type) ? NORMALIZATION.clip : NORMALIZATION.inception;
    spec.mean = rgb(cfg, 'image_mean', defaults.mean);
    spec.std = rgb(cfg, 'image_std', defaults.std);
  }
  validateSpec(spec);
  return spec;
}

/** timm's interpolation names; 'random' (train-time) is read as bilinear, as timm evaluates it. */
function timmInterpolation(v: unknown): Interpolation {
  if (v === undefined || v === null) return 'bilinear';
  if (v === 'random') return 'bilinear';
  if (v === 'antialias' || v === 'area') return 'box';
  if (isInterpolation(v)) return v;
  throw new ConfigError(`unknown interpolation ${JSON.stringify(v)}`, 'use nearest, bilinear, bicubic, box, hamming or lanczos');
}

/**
 * Reads a timm `pretrained_cfg` (or a hub config.json that holds one) into
 * the spec timm's `transforms_imagenet_eval` builds: scale = floor(size /
 * crop_pct) then center crop (`center`), stretch then crop (`squash`), or fit
 * the longer side and pad (`border`).
 */
export function specFromTimmConfig(cfg: unknown): PreprocessSpec {
  if (!isObject(cfg)) throw new ConfigError('timm config must be a JSON object');
  const c = isObject(cfg.pretrained_cfg) ? cfg.pretrained_cfg : cfg;
  const inputSize = c.input_size ?? c.test_input_size ?? [3, 224, 224];
  let height: number;
  let width: number;
  if (typeof inputSize === 'number') [height, width] = [inputSize, inputSize];
  else if (Array.isArray(inputSize) && inputSize.length === 3 && inputSize.every((v) => Number.isInteger(v) && v > 0)) {
    if (inputSize[0] !== 3) throw new ConfigError(`input_size has ${inputSize[0]} channels; only RGB (3) is supported`);
    [height, width] = [inputSize[1] as number, inputSize[2] as number];
  } else throw new ConfigError(`input_size must be [3, height, width], got ${JSON.stringify(inputSize)}`);
  const cropPct = num(c, 'crop_pct', 0.875);
  if (!(cropPct > 0 && cropPct <= 4)) throw new ConfigError(`crop_pct must be in (0, 4], got ${cropPct}`);
  const cropMode = c.crop_mode ?? 'center';
  const interpolation = timmInterpolation(c.interpolation);
  const scaleH = Math.floor(height / cropPct);
  const scaleW = Math.floor(width / cropPct);
  const mean = rgb(c, 'mean', NORMALIZATION.imagenet.mean);
  const std = rgb(c, 'std', NORMALIZATION.imagenet.std);
  let resize: ResizeSpec;
  let fill: [number, number, number] | undefined;
  if (cropMode === 'squash') resize = { kind: 'exact', height: scaleH, width: scaleW, interpolation };
  else if (cropMode === 'border') {
    resize = { kind: 'keep-ratio', height: scaleH, width: scaleW, fit: 'longer', interpolation };
    fill = mean.map((m) => Math.round(255 * m)) as [number, number, number];
  } else if (cropMode === 'center') {
    resize = scaleH === scaleW ? { kind: 'shortest-edge', size: scaleH, interpolation } : { kind: 'keep-ratio', height: scaleH, width: scaleW, fit: 'shorter', interpolation };
  } else throw new ConfigError(`unknown crop_mode ${JSON.stringify(cropMode)}`, 'use center, squash or border');
  const spec: PreprocessSpec = {
    resize,
    crop: { height, width, convention: 'torchvision', ...(fill ? { fill } : {}) },
    rescale: 1 / 255,
    mean,
    std,
  };
  validateSpec(spec);
  return spec;
}

/** Which ecosystem a config JSON comes from: timm (`input_size`, `pretrained_cfg`, `crop_pct`) or Hugging Face. */
export function detectConfigKind(cfg: unknown): 'timm' | 'hf' {
  if (!isObject(cfg)) throw new ConfigError('preprocessing config must be a JSON object');
  if (isObject(cfg.pretrained_cfg) || 'input_size' in cfg || 'crop_pct' in cfg) return 'timm';
  return 'hf';
}

/** Reads either kind of config (see detectConfigKind). */
export function specFromConfig(cfg: unknown): PreprocessSpec {
  return detectConfigKind(cfg) === 'timm' ? specFromTimmConfig(cfg) : specFromHfConfig(cfg);
}
