// The trained model as a model directory: model.safetensors, config.json
// (with the class names) and preprocessor_config.json, written with the
// library's writers so that `vit predict`, loadImageClassifier and timm /
// Hugging Face read it back.
import { ConfigError } from '@vitkit/core';
import { specFromConfig, type PreprocessSpec } from '@vitkit/preprocessing';
import { configJson, modelSafetensorsAsync, type TrainableModel } from '@vitkit/training/browser';

export interface ModelFile {
  name: string;
  bytes: Uint8Array;
}

const PIL_RESAMPLE_ID: Record<string, number> = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5 };

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

/**
 * A preprocessor_config.json that reads back (specFromConfig) as exactly
 * `spec`: Hugging Face fields where they can say it, timm's otherwise.
 */
export function preprocessorConfigOf(spec: PreprocessSpec): Record<string, unknown> {
  for (const form of [hfForm(spec), timmForm(spec)]) {
    if (form && canonical(specFromConfig(form)) === canonical(spec)) return form;
  }
  throw new ConfigError('this model\'s preprocessing cannot be written as a preprocessor_config.json', 'load a model whose preprocessing is a Hugging Face or timm recipe');
}

/** JSON with object keys sorted, to compare specs whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** The three files of a model directory, as bytes. */
export async function modelDirectoryFiles(model: TrainableModel, spec: PreprocessSpec, metadata: Record<string, string> = {}): Promise<ModelFile[]> {
  return [
    { name: 'model.safetensors', bytes: await modelSafetensorsAsync(model, metadata) },
    { name: 'config.json', bytes: json(configJson(model.config)) },
    { name: 'preprocessor_config.json', bytes: json(preprocessorConfigOf(spec)) },
  ];
}
