import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromSpec, specFromConfig } from '@vitkit/preprocessing';
import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from '../src/worker/train_data.js';
import { APP_DIR } from './support/build.js';

describe('the Teach download', () => {
  // The writer's round trips are tested in @vitkit/preprocessing; here: the bundled model's own file.
  it('writes the bundled model’s preprocessing as a preprocessor_config.json that reads back the same', () => {
    const bundled = JSON.parse(readFileSync(join(APP_DIR, 'public', 'models', 'fashion-mnist', 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
    const spec = specFromConfig(bundled);
    const written = configFromSpec(spec);
    expect(written.image_processor_type).toBe('ViTImageProcessor');
    expect(specFromConfig(written)).toEqual(spec);
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
