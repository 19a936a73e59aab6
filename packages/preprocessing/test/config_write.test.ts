import { ConfigError } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { configFromSpec, presetSpec, specFromConfig, specFromHfConfig, specFromTimmConfig, type PreprocessSpec } from '../src/index.js';

describe('configFromSpec writes what specFromConfig reads back', () => {
  // The bundled Fashion-MNIST model's preprocessor_config.json: gray, exact resize, no crop.
  const grayHf = { image_processor_type: 'ViTImageProcessor', do_resize: true, size: { height: 28, width: 28 }, resample: 2, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.286], image_std: [0.353] };

  it('round-trips Hugging Face, timm and torchvision recipes exactly', () => {
    const specs: PreprocessSpec[] = [
      specFromHfConfig(grayHf),
      presetSpec('hf', { size: 224 }),
      presetSpec('timm', { size: 224 }),
      presetSpec('torchvision', { size: 224 }),
      // CLIP-style: shortest-edge bicubic resize then HF's center crop.
      specFromHfConfig({ image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 224 }, crop_size: 224 }),
      // timm's other crop modes, a non-square input and a crop_pct whose floor is easy to miss.
      specFromTimmConfig({ input_size: [3, 224, 224], crop_pct: 0.95, crop_mode: 'squash', interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }),
      specFromTimmConfig({ input_size: [3, 256, 192], crop_pct: 1.0, crop_mode: 'border' }),
      specFromTimmConfig({ input_size: [3, 256, 192], crop_pct: 0.9 }),
      specFromTimmConfig({ input_size: [3, 384, 384], crop_pct: 0.9 }),
      specFromTimmConfig({ input_size: [3, 224, 224], crop_pct: 0.875, interpolation: 'lanczos' }),
    ];
    for (const spec of specs) expect(specFromConfig(configFromSpec(spec))).toEqual(spec);
  });

  it('prefers Hugging Face fields and falls back to a timm pretrained_cfg', () => {
    expect(configFromSpec(specFromHfConfig(grayHf))).toMatchObject({ image_processor_type: 'ViTImageProcessor', size: { height: 28, width: 28 }, resample: 2, image_mean: [0.286, 0.286, 0.286] });
    const timm = configFromSpec(presetSpec('timm', { size: 224 }));
    expect(timm).toMatchObject({ input_size: [3, 224, 224], crop_mode: 'center', interpolation: 'bicubic' });
    // timm computes floor(224 / crop_pct): it must give the 248 the spec resizes to.
    expect(Math.floor(224 / (timm.crop_pct as number))).toBe(248);
  });

  it('refuses what neither form can say, with a ConfigError', () => {
    // torchvision's crop rounding with a rescale other than 1/255: HF crops differently, timm always rescales by 1/255.
    const odd: PreprocessSpec = { ...presetSpec('torchvision', { size: 224 }), rescale: 1 / 127.5 };
    expect(() => configFromSpec(odd)).toThrow(ConfigError);
    // A torchvision shortest-edge resize with a max size: neither ecosystem's eval config has one.
    const capped: PreprocessSpec = { resize: { kind: 'shortest-edge', size: 224, maxSize: 300, interpolation: 'bilinear' } };
    expect(() => configFromSpec(capped)).toThrow(/cannot be written/);
  });
});
