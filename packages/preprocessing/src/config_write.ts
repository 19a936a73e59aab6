// The writer that matches config.ts's readers: a spec back to the JSON a
// model directory carries, in the form the ecosystems read (Hugging Face
// ViTImageProcessor fields where they can say it, a timm pretrained_cfg
// otherwise). Only JSON that specFromConfig reads back as exactly the spec
// is returned, so a model saved with it is fed the same inputs everywhere.
import { ConfigError } from '@vitkit/core';
import { specFromConfig } from './config.js';
import { PIL_RESAMPLE } from './resize/filters.js';
import type { PreprocessSpec } from './spec.js';

/** PIL resample ids by filter name (the inverse of PIL_RESAMPLE). */
const PIL_RESAMPLE_ID: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(PIL_RESAMPLE).map(([id, name]) => [name, Number(id)]));

/** Hugging Face image-processor fields: exact or shortest-edge resize, optional center crop (HF's rounding). */
function hfForm(spec: PreprocessSpec): Record<string, unknown> | undefined {
  const r = spec.resize;
  if (r?.kind === 'keep-ratio' || (spec.crop && spec.crop.convention !== 'hf') || spec.crop?.fill) return undefined;
  return {
    image_processor_type: 'ViTImageProcessor',
    do_resize: r !== undefined,
    ...(r ? { size: r.kind === 'exact' ? { height: r.height, width: r.width } : { shortest_edge: r.size }, resample: PIL_RESAMPLE_ID[r.interpolation] } : {}),
    do_center_crop: spec.crop !== undefined,
    ...(spec.crop ? { crop_size: { height: spec.crop.height, width: spec.crop.width } } : {}),
    do_rescale: spec.rescale !== undefined,
    ...(spec.rescale !== undefined ? { rescale_factor: spec.rescale } : {}),
    do_normalize: spec.mean !== undefined,
    ...(spec.mean ? { image_mean: spec.mean, image_std: spec.std } : {}),
  };
}

/** timm `pretrained_cfg` fields: resize to crop / crop_pct then center crop (torchvision's rounding). */
function timmForm(spec: PreprocessSpec): Record<string, unknown> | undefined {
  const { resize: r, crop } = spec;
  if (!r || !crop || crop.convention !== 'torchvision' || !spec.mean || !spec.std || spec.rescale !== 1 / 255) return undefined;
  const scale = r.kind === 'shortest-edge' ? r.size : r.height;
  const mode = r.kind === 'exact' ? 'squash' : r.kind === 'keep-ratio' && r.fit === 'longer' ? 'border' : 'center';
  // timm takes floor(size / crop_pct): half a pixel of margin keeps float rounding from landing one below.
  return { input_size: [3, crop.height, crop.width], crop_pct: crop.height / (scale + 0.5), crop_mode: mode, interpolation: r.interpolation, mean: spec.mean, std: spec.std };
}

/** JSON with object keys sorted, to compare specs whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/** Whether `json` reads back as `spec` (a reader that throws on it means no). */
function readsBackAs(json: Record<string, unknown>, spec: PreprocessSpec): boolean {
  try {
    return canonical(specFromConfig(json)) === canonical(spec);
  } catch {
    return false;
  }
}

/**
 * A preprocessor_config.json that reads back (specFromConfig) as exactly
 * `spec`: Hugging Face fields where they can say it, a timm pretrained_cfg
 * otherwise. Throws ConfigError when neither form can express the spec.
 */
export function configFromSpec(spec: PreprocessSpec): Record<string, unknown> {
  for (const form of [hfForm(spec), timmForm(spec)]) {
    if (form && readsBackAs(form, spec)) return form;
  }
  throw new ConfigError('this preprocessing cannot be written as a preprocessor_config.json (neither Hugging Face nor timm fields read back as it)', 'use a Hugging Face or timm recipe (see presetSpec and specFromConfig)');
}
