import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetSpec, specFromConfig, specFromTimmConfig } from '@vitkit/preprocessing';
import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from '../src/worker/train_data.js';
import { preprocessorConfigOf } from '../src/worker/train_files.js';
import { APP_DIR } from './support/build.js';

describe('the Teach download', () => {
  it('writes a preprocessor_config.json that reads back as the model’s own preprocessing', () => {
    const bundled = JSON.parse(readFileSync(join(APP_DIR, 'public', 'models', 'fashion-mnist', 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
    const specs = [
      specFromConfig(bundled),
      presetSpec('hf', { size: 224 }),
      presetSpec('timm', { size: 224 }),
      presetSpec('torchvision', { size: 224 }),
      // timm's other crop modes and a non-square input.
      specFromTimmConfig({ input_size: [3, 224, 224], crop_pct: 0.95, crop_mode: 'squash', interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }),
      specFromTimmConfig({ input_size: [3, 256, 192], crop_pct: 1.0, crop_mode: 'border' }),
      specFromTimmConfig({ input_size: [3, 384, 384], crop_pct: 0.9 }),
    ];
    for (const spec of specs) expect(specFromConfig(preprocessorConfigOf(spec))).toEqual(spec);
    expect(preprocessorConfigOf(specs[0]!).image_processor_type).toBe('ViTImageProcessor');
  });

  it('holds out a fifth of each class (at least one image), the same for the same seed', () => {
    const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2]);
    const a = stratifiedSplit(labels, 3, 7);
    expect(a).toEqual(stratifiedSplit(labels, 3, 7));
    const count = (idx: number[], k: number): number => idx.filter((i) => labels[i] === k).length;
    expect([0, 1, 2].map((k) => [count(a.train, k), count(a.val, k)])).toEqual([[8, 2], [1, 1], [2, 1]]);
    expect([...a.train, ...a.val].sort((x, y) => x - y)).toEqual([...labels.keys()]);
  });
});
